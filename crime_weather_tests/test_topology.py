"""The compose topology, run natively (compose/test_stack.py starts the containers themselves).

Every service of docker-compose.yml's `all` profile runs as a local process, from the same files and
with the same environment variable names as its container:
- postgres: a throwaway cluster (initdb) on a free loopback port, its roles and databases made by
  docker/postgres/init-databases.sh itself;
- s3 + s3-init: moto's S3 server and the buckets data, landing, mlflow and dagster;
- mlflow: docker/mlflow-server.sh itself, backend in PostgreSQL, artifacts in s3://mlflow;
- code-location: `dagster code-server start` over gRPC; dagster-daemon and dagster-webserver load
  docker/workspace.yaml pointed at it, and use docker/dagster.yaml (PostgreSQL storage, compute logs
  in S3, the run queue, monitoring, retries) less its run_launcher: runs are processes of the code
  server here, containers in compose;
- api: `python -m serving` with the compose api service's settings only: models through MLflow, the
  warehouse (GET /forecast) through S3 with a key of its own, no Dagster.

Then a user drops a crime file and a weather file into the landing bucket, and nothing else: the
sensor must ingest the months, the retrain must register a champion, and the API must serve it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pandas as pd
import pytest
import yaml

from crime_weather.orchestration.jobs import STAGE_TAG
from crime_weather.orchestration.sensors.landing import RANGE_END_TAG, RANGE_START_TAG
from crime_weather_tests import builders
from crime_weather_tests.platform import Platform, kill_processes_with_env, processes_with_env, wait_for
from crime_weather_tests.postgres import Postgres, PostgresNotFound
from harness.processes import BIN, ROOT, Server, free_port, wait_http

pytestmark = [pytest.mark.topology, pytest.mark.timeout(600)]

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DOCKER = ROOT / "docker"
BUCKETS = ("data", "landing", "mlflow", "dagster")  # what s3-init creates
MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
MONTHLY_ASSETS = ("raw_crime", "raw_weather", "daily_features")
MODEL = "crime_weather"
# How long the pipeline may take from the drop to a served champion (a few runs, a tiny search).
PIPELINE_TIMEOUT = 300
# Marks every process of this test, so none survives it (see `topology`).
MARKER = "CRIME_WEATHER_TOPOLOGY_TEST"


def compose_env(service: str) -> dict[str, object]:
    return dict(COMPOSE["services"][service]["environment"])


# --- the services under the platform ----------------------------------------------------------------
def start_postgres() -> Postgres:
    """A PostgreSQL cluster; the test fails (as root on Debian, where system_deps installs it) or skips."""
    try:
        postgres = Postgres()
    except PostgresNotFound as error:
        if os.geteuid() == 0 and Path("/etc/debian_version").exists():
            pytest.fail(f"{error}: `make test` should have installed it (crime_weather_tests/system_deps.py)")
        pytest.skip(f"{error} (and not root on Debian, so it cannot be installed here)")
    try:
        return postgres.start()
    except BaseException:
        postgres.stop()  # a half-started cluster: its server, if any, and its folder
        raise


def dagster_yaml(target: Path, compute_logs: Path) -> dict:
    """docker/dagster.yaml less run_launcher (no Docker: Dagster's default launcher, runs as processes
    of the code server); the compute logs' local staging folder in the test's home, not /tmp."""
    config = yaml.safe_load((DOCKER / "dagster.yaml").read_text(encoding="utf-8"))
    assert config["run_launcher"]["class"] == "DockerRunLauncher"
    del config["run_launcher"]
    config["compute_logs"]["config"]["local_dir"] = str(compute_logs)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config


def workspace_yaml(target: Path, port: int) -> None:
    """docker/workspace.yaml with the code location's host and port on loopback."""
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text(encoding="utf-8"))
    (entry,) = workspace["load_from"]
    assert entry["grpc_server"]["host"] == "code-location"
    entry["grpc_server"].update(host="127.0.0.1", port=port)
    target.write_text(yaml.safe_dump(workspace, sort_keys=False), encoding="utf-8")


@dataclass
class Topology:
    postgres: Postgres
    s3_server: Server
    s3_url: str
    s3_credentials: dict[str, str]
    platform: Platform
    dagster_config: dict
    token: str

    def s3(self):
        return s3_client(self.s3_url, self.s3_credentials)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def logs(self) -> str:
        return f"{self.platform.logs()}\n--- postgres ---\n{self.postgres.tail()}"


@contextlib.contextmanager
def explained(topology: Topology) -> Iterator[None]:
    """On failure, the end of every service's log goes into the test's output."""
    try:
        yield
    except BaseException:
        print(topology.logs())
        raise


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    home = tmp_path_factory.mktemp("topology")
    token = uuid.uuid4().hex
    marker = {MARKER: token}
    postgres = start_postgres()
    s3 = platform = None
    try:
        # Secrets as .env.example asks for them (letters, digits, '-' and '_'), new on every run.
        credentials = {
            "POSTGRES_USER": "postgres",
            "DAGSTER_POSTGRES_USER": "dagster",
            "DAGSTER_POSTGRES_PASSWORD": f"dagster-{secrets.token_hex(8)}",
            "DAGSTER_POSTGRES_DB": "dagster",
            "MLFLOW_POSTGRES_USER": "mlflow",
            "MLFLOW_POSTGRES_PASSWORD": f"mlflow_{secrets.token_hex(8)}",
            "MLFLOW_POSTGRES_DB": "mlflow",
            "AWS_ACCESS_KEY_ID": f"app-{secrets.token_hex(4)}",
            "AWS_SECRET_ACCESS_KEY": secrets.token_hex(12),
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        # The API's own key (read-only in compose; moto does not enforce policies: test_s3_init does).
        api_credentials = {
            "AWS_ACCESS_KEY_ID": f"api-{secrets.token_hex(4)}",
            "AWS_SECRET_ACCESS_KEY": secrets.token_hex(12),
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        postgres.run_script(
            DOCKER / "postgres" / "init-databases.sh",
            {name: credentials[name] for name in compose_env("postgres") if name in credentials},
        )

        s3_port = free_port()
        s3_url = f"http://127.0.0.1:{s3_port}"
        s3 = Server(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
            {**os.environ, **marker},
            home / "logs" / "s3.log",
        ).start()
        wait_http(f"{s3_url}/moto-api/", timeout=60)
        s3_credentials = {name: credentials[name] for name in credentials if name.startswith("AWS_")}
        client = s3_client(s3_url, s3_credentials)
        for bucket in BUCKETS:
            client.create_bucket(Bucket=bucket)

        code_port = free_port()
        config = dagster_yaml(home / "dagster.yaml", home / "compute-logs")
        workspace_yaml(home / "workspace.yaml", code_port)

        s3_env = {name: credentials[name] for name in compose_env("mlflow") if name.startswith("AWS_")}
        platform_env = {
            # x-platform-env, value for value, with local addresses
            "DAGSTER_POSTGRES_HOST": "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(postgres.port),
            "DAGSTER_POSTGRES_USER": credentials["DAGSTER_POSTGRES_USER"],
            "DAGSTER_POSTGRES_PASSWORD": credentials["DAGSTER_POSTGRES_PASSWORD"],
            "DAGSTER_POSTGRES_DB": credentials["DAGSTER_POSTGRES_DB"],
            **s3_env,
            "AWS_DEFAULT_REGION": "us-east-1",
            "CRIME_WEATHER_SOURCE": "none",  # no network here: only what the test drops
            "CRIME_WEATHER_FORECAST_SOURCE": "none",
            "CRIME_WEATHER_LANDING_URI": "s3://landing",
            "CRIME_WEATHER_WAREHOUSE_URI": "s3://data",
            "CRIME_WEATHER_S3_ENDPOINT_URL": s3_url,
            "CRIME_WEATHER_REGISTERED_MODEL": MODEL,
        }
        mlflow_env = {
            **s3_env,
            "MLFLOW_POSTGRES_HOST": "127.0.0.1",
            "MLFLOW_POSTGRES_PORT": str(postgres.port),
            "MLFLOW_POSTGRES_USER": credentials["MLFLOW_POSTGRES_USER"],
            "MLFLOW_POSTGRES_PASSWORD": credentials["MLFLOW_POSTGRES_PASSWORD"],
            "MLFLOW_POSTGRES_DB": credentials["MLFLOW_POSTGRES_DB"],
            "MLFLOW_ARTIFACTS_DESTINATION": "s3://mlflow",
            "MLFLOW_S3_ENDPOINT_URL": s3_url,
            **marker,
        }
        platform = Platform(
            home,
            env={**platform_env, **marker},
            dagster_yaml=home / "dagster.yaml",
            workspace=home / "workspace.yaml",
            code_server_port=code_port,
            mlflow_script=DOCKER / "mlflow-server.sh",
            mlflow_env=mlflow_env,
            api_env={
                "CRIME_WEATHER_REGISTERED_MODEL": MODEL,
                "CRIME_WEATHER_API_ACCESS_LOG": "true",
                "CRIME_WEATHER_WAREHOUSE_URI": "s3://data",
                "CRIME_WEATHER_S3_ENDPOINT_URL": s3_url,
                **api_credentials,
                **marker,
            },
        )
        # The platform sets both tracking URIs to its MLflow; links in the UI lead there too. (One dict:
        # every Dagster process of the platform shares it, and none has started yet.)
        platform.env["CRIME_WEATHER_MLFLOW_UI_URL"] = platform.tracking_uri

        # Held to the compose file: the same variable names for each service, nothing more or less.
        compose_platform = set(COMPOSE["x-platform-env"])
        assert compose_platform == set(platform_env) | {
            "CRIME_WEATHER_MLFLOW_TRACKING_URI",
            "CRIME_WEATHER_MLFLOW_UI_URL",
            "MLFLOW_TRACKING_URI",
            "CRIME_WEATHER_DOCKER_NETWORK",  # for DockerRunLauncher, which runs here do not use
            "CRIME_WEATHER_SEARCH_TRIALS",  # the retrain's budget: the platform sets its own here
            "CRIME_WEATHER_SEARCH_TIMEOUT_SECONDS",
            "CRIME_WEATHER_SEARCH_FOLDS",
            "CRIME_WEATHER_BACKTEST_FOLDS",
            "CRIME_WEATHER_CALIBRATION_ORIGINS",
        }
        assert set(compose_env("mlflow")) == set(mlflow_env) - {MARKER} | {"MLFLOW_SERVER_ALLOWED_HOSTS"}
        assert set(compose_env("api")) == {
            "CRIME_WEATHER_API_HOST",
            "CRIME_WEATHER_API_PORT",
            "CRIME_WEATHER_API_ACCESS_LOG",
            "CRIME_WEATHER_MLFLOW_TRACKING_URI",
            "MLFLOW_TRACKING_URI",
            "CRIME_WEATHER_REGISTERED_MODEL",
            "CRIME_WEATHER_WAREHOUSE_URI",
            "CRIME_WEATHER_S3_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
        }

        topology = Topology(postgres, s3, s3_url, s3_credentials, platform, config, token)
        try:
            platform.start(webserver=False, api=True)
            drop_files(client)
            wait_for_champion(topology)
        except BaseException:
            print(topology.logs())
            raise
        yield topology
    finally:
        if platform is not None:
            platform.stop()
        if s3 is not None:
            s3.stop()
        postgres.stop()
        kill_processes_with_env(MARKER, token)  # a last resort: nothing of this test outlives it


def s3_client(url: str, credentials: dict[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=credentials["AWS_DEFAULT_REGION"],
    )


def drop_files(client) -> None:
    """What a user does: a crime file and a weather file into the landing bucket."""
    crime = builders.release_current(builders.events_for(MONTHS, per_day=6, seed=5))
    days = pd.date_range(f"{MONTHS[0]}-01", pd.Timestamp(f"{MONTHS[-1]}-01") + pd.offsets.MonthEnd(0))
    client.put_object(Bucket="landing", Key="delitos_2023.csv", Body=builders.to_csv(crime))
    client.put_object(
        Bucket="landing",
        Key="smn/estacion_daily.csv.gz",
        Body=builders.gz(builders.to_csv(builders.smn_daily(days))),
    )


def wait_for_champion(topology: Topology) -> None:
    platform = topology.platform

    def served():
        for name, server in (("daemon", platform.daemon), ("code server", platform.code_server)):
            if not server.running():
                raise AssertionError(f"the {name} exited")
        return platform.champion()

    try:
        wait_for(served, timeout=PIPELINE_TIMEOUT, what="the API serving a champion", every=2)
        wait_until_settled(topology)
    except (TimeoutError, AssertionError) as error:
        pytest.fail(str(error))  # the fixture prints every log


def wait_until_settled(topology: Topology) -> None:
    """No run queued or running through two evaluations of the retrain sensor: the champion served is
    the last one (the landing sensor may have seen the two files in two ticks, two ingests, a retrain
    after each), and every run has its final status."""
    import dagster as dg

    instance = topology.platform.instance()
    unfinished = dg.RunsFilter(
        statuses=[
            dg.DagsterRunStatus.QUEUED,
            dg.DagsterRunStatus.NOT_STARTED,
            dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED,
            dg.DagsterRunStatus.CANCELING,
        ]
    )
    quiet_for = 2 * int(topology.platform.env["CRIME_WEATHER_AUTOMATION_SECONDS"]) + 2
    state = {"since": None, "runs": -1}

    def settled() -> bool:
        runs = len(instance.get_run_records())
        if instance.get_run_records(filters=unfinished) or runs != state["runs"]:
            state.update(since=time.monotonic(), runs=runs)
            return False
        return time.monotonic() - state["since"] >= quiet_for

    wait_for(settled, timeout=PIPELINE_TIMEOUT, what="every run finished, none new", every=1)


# --- what the platform did ------------------------------------------------------------------------
def test_the_sensor_turns_the_dropped_files_into_monthly_partitions_in_the_data_bucket(topology):
    with explained(topology):
        instance = topology.platform.instance()
        assert sorted(instance.get_dynamic_partitions("months")) == MONTHS
        keys = set(topology.keys("data"))
        for asset in MONTHLY_ASSETS:
            assert {f"{asset}/{month}.parquet" for month in MONTHS} <= keys, sorted(keys)
        assert {"train_test_split/train.parquet", "train_test_split/test.parquet"} <= keys
        # The landing zone is read, never rewritten.
        assert sorted(topology.keys("landing")) == ["delitos_2023.csv", "smn/estacion_daily.csv.gz"]


def test_dagster_keeps_runs_and_events_in_postgres(topology):
    with explained(topology):
        instance = topology.platform.instance()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

        # The runs are rows of the dagster database, read by the superuser straight from PostgreSQL.
        rows = topology.postgres.psql("SELECT status, count(*) FROM runs GROUP BY status", database="dagster")
        statuses = dict(line.split("|") for line in rows.splitlines())
        assert int(statuses.get("SUCCESS", 0)) >= 2 and set(statuses) == {"SUCCESS"}, statuses
        partitions = topology.postgres.psql(
            "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'months' ORDER BY 1",
            database="dagster",
        )
        assert partitions.split() == MONTHS
        owner = topology.postgres.psql(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'runs'", database="dagster"
        )
        assert owner == "dagster", "Dagster works as its own role, not the superuser"
        # The daemon is alive and heartbeating into the same database.
        daemons = topology.postgres.psql("SELECT daemon_type FROM daemon_heartbeats", database="dagster")
        assert {"SENSOR", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= set(daemons.split())


def test_the_landing_sensor_ingested_every_month_and_the_automation_retrained(topology):
    with explained(topology):
        runs = topology.platform.instance().get_runs()
        stages = [run.tags.get(STAGE_TAG) for run in runs]
        ingests = [run for run in runs if run.tags.get(STAGE_TAG) == "ingest"]
        assert ingests and all(run.tags.get("dagster/sensor_name") == "landing_sensor" for run in ingests)
        covered = set()
        for run in ingests:
            first, last = run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]
            covered |= {month for month in MONTHS if first <= month <= last}
        assert covered == set(MONTHS)
        assert "train" in stages, stages
        # Nothing rejected, no acquisition, no forecast (its source is none): ingests, retrains, the
        # champion's outlook and the scoring of the months that landed.
        assert set(stages) <= {"ingest", "train", "outlook", "score"}, stages


def test_compute_logs_go_to_the_dagster_bucket(topology):
    with explained(topology):
        prefix = topology.dagster_config["compute_logs"]["config"]["prefix"]
        logs = wait_for(
            lambda: topology.keys("dagster", f"{prefix}/"), timeout=60, what="compute logs in s3://dagster"
        )
        assert logs


def test_a_champion_is_registered_in_mlflow_with_its_artifacts_in_the_mlflow_bucket(topology):
    from mlflow.tracking import MlflowClient

    with explained(topology):
        client = MlflowClient(topology.platform.tracking_uri, topology.platform.tracking_uri)
        champion = client.get_model_version_by_alias(MODEL, "champion")
        run = client.get_run(champion.run_id)
        assert run.info.artifact_uri.startswith("mlflow-artifacts:"), "artifacts go through the server"
        keys = topology.keys("mlflow")
        assert any(champion.run_id in key for key in keys), keys[:20]
        model_id = getattr(champion, "model_id", None)
        if model_id:
            assert any(model_id in key and key.endswith("MLmodel") for key in keys), keys[:20]
        # MLflow's own tables are in its database, owned by its role.
        versions = topology.postgres.psql(
            f"SELECT version FROM model_versions WHERE name = '{MODEL}' ORDER BY version", database="mlflow"
        )
        assert str(champion.version) in versions.split()
        alias = topology.postgres.psql(
            "SELECT version FROM registered_model_aliases WHERE alias = 'champion'", database="mlflow"
        )
        assert alias == str(champion.version)
        owner = topology.postgres.psql(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'model_versions'", database="mlflow"
        )
        assert owner == "mlflow"


def test_the_api_serves_the_champion_through_the_mlflow_server(topology):
    from mlflow.tracking import MlflowClient

    with explained(topology):
        platform = topology.platform
        # Both URIs named: a registry URI left in MLflow's globals by another test must not answer here.
        client = MlflowClient(platform.tracking_uri, platform.tracking_uri)
        champion = client.get_model_version_by_alias(MODEL, "champion")
        health = httpx.get(f"{platform.api_url}/health", timeout=5)
        assert health.status_code == 200 and health.json()["model_version"] == str(champion.version)
        model = platform.champion()
        assert model["version"] == str(champion.version)
        assert model["trained_months"] == MONTHS  # served refit on every month present
        assert model["history_end"] == f"{MONTHS[-1]}-30"
        assert model["dagster_run_id"]
        response = platform.predict(
            {"date": "2023-07-03", "comuna": 3, "temp_mean": 21.0, "precipitation_mm": 0.0}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_version"] == str(champion.version) and body["expected_robberies"] >= 0
        # As in compose: the model came through MLflow (no MLflow S3 settings, no Dagster), and the API
        # reads the warehouse with its own key, not the platform's.
        assert not {name for name in platform.api.env if name.startswith(("MLFLOW_S3", "DAGSTER_"))}
        assert platform.api.env["AWS_ACCESS_KEY_ID"] != platform.env["AWS_ACCESS_KEY_ID"]
        # It reached the data bucket: no forecast issued yet (no forecast file, source none) is a 404;
        # a warehouse it cannot read would be a 503.
        forecast = httpx.get(f"{platform.api_url}/forecast", timeout=10)
        assert forecast.status_code == 404, forecast.text
        assert "no forecast has been issued yet" in forecast.text


def test_the_webserver_loads_the_grpc_code_location_and_shows_the_partitions(topology):
    with explained(topology):
        platform = topology.platform
        platform.start_webserver()
        data = platform.graphql(
            """{ workspaceOrError { ... on Workspace { locationEntries {
                   name locationOrLoadError { __typename } } } } }"""
        )
        (entry,) = data["workspaceOrError"]["locationEntries"]
        assert entry["name"] == "crime_weather"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        node = platform.graphql(
            """{ assetNodeOrError(assetKey: {path: ["daily_features"]}) {
                   ... on AssetNode { partitionKeys } } }"""
        )["assetNodeOrError"]
        assert node["partitionKeys"] == MONTHS


def test_every_process_stops(topology):
    with explained(topology):
        assert processes_with_env(MARKER, topology.token)
        topology.platform.stop()
        topology.s3_server.stop()
        wait_for(
            lambda: not processes_with_env(MARKER, topology.token),
            timeout=30,
            what="every process of the topology gone",
        )
        topology.postgres.stop()
        assert not topology.postgres.folder.exists()
