#!/bin/sh
# The MLflow tracking server in compose (docker/Dockerfile.mlflow): PostgreSQL backend store,
# artifacts proxied to s3://mlflow on the S3 server (clients upload and download through this
# server, as mlflow-artifacts:/, so they need no S3 credentials of their own).
#
# The backend URI is assembled here from the environment: the password is URL-quoted and never
# appears in the compose file or in the container's command line.
#
# Environment: MLFLOW_POSTGRES_USER, MLFLOW_POSTGRES_PASSWORD, MLFLOW_POSTGRES_DB,
# MLFLOW_POSTGRES_HOST (default postgres), MLFLOW_POSTGRES_PORT (default 5432),
# MLFLOW_ARTIFACTS_DESTINATION (default s3://mlflow), MLFLOW_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, MLFLOW_SERVER_ALLOWED_HOSTS (MLflow reads it as --allowed-hosts),
# MLFLOW_LISTEN_HOST (default 0.0.0.0) and MLFLOW_LISTEN_PORT (default 5001; the topology test runs
# this script on a free loopback port). Not MLflow's own MLFLOW_HOST/MLFLOW_PORT: Kubernetes sets
# MLFLOW_PORT=tcp://... in every pod of a namespace that has a service named mlflow.
set -eu

MLFLOW_BACKEND_STORE_URI="$(python - <<'EOF'
import os
from urllib.parse import quote

env = os.environ
print(
    "postgresql+psycopg2://"
    f"{quote(env['MLFLOW_POSTGRES_USER'], safe='')}:{quote(env['MLFLOW_POSTGRES_PASSWORD'], safe='')}"
    f"@{env.get('MLFLOW_POSTGRES_HOST', 'postgres')}:{env.get('MLFLOW_POSTGRES_PORT', '5432')}"
    f"/{quote(env['MLFLOW_POSTGRES_DB'], safe='')}"
)
EOF
)"
export MLFLOW_BACKEND_STORE_URI

# One worker and no job execution: a default server forks ~15 processes and takes ~3 GB.
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false

exec mlflow server \
    --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-s3://mlflow}" \
    --host "${MLFLOW_LISTEN_HOST:-0.0.0.0}" \
    --port "${MLFLOW_LISTEN_PORT:-5001}" \
    --workers 1
