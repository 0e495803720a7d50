#!/bin/sh
# Runs once, when the postgres container starts on an empty data volume (docker-entrypoint-initdb.d):
# one role and one database for Dagster, one of each for MLflow, so neither can touch the other's
# tables and neither uses the superuser. Changing a password in .env later does not change it here:
# use ALTER ROLE, or remove the volume (`docker compose down -v` deletes all state).
#
# Values go through psql variables (:"identifier", :'literal'), so they are quoted by psql.
set -eu

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v dagster_user="$DAGSTER_POSTGRES_USER" \
    -v dagster_password="$DAGSTER_POSTGRES_PASSWORD" \
    -v dagster_db="$DAGSTER_POSTGRES_DB" \
    -v mlflow_user="$MLFLOW_POSTGRES_USER" \
    -v mlflow_password="$MLFLOW_POSTGRES_PASSWORD" \
    -v mlflow_db="$MLFLOW_POSTGRES_DB" <<'SQL'
CREATE ROLE :"dagster_user" LOGIN PASSWORD :'dagster_password';
CREATE DATABASE :"dagster_db" OWNER :"dagster_user";
REVOKE ALL ON DATABASE :"dagster_db" FROM PUBLIC;
CREATE ROLE :"mlflow_user" LOGIN PASSWORD :'mlflow_password';
CREATE DATABASE :"mlflow_db" OWNER :"mlflow_user";
REVOKE ALL ON DATABASE :"mlflow_db" FROM PUBLIC;
SQL
