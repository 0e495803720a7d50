"""`docker compose --profile all up` on a real Docker engine: the real docker-compose.yml, with only
what cannot be pulled without a registry replaced (override.yml), driven through public interfaces.

The engine, the Compose CLI and the local base image are installed and made when missing
(engine.py, images.py); the test skips only where no engine can run. Then, in order:
1. check-env refuses a change-me placeholder before PostgreSQL stores it;
2. the stack starts; only the UIs and the API are published;
3. the shared data goes into the landing bucket (the documented `compose run acquisition` with a
   mirror folder: boto3, the platform's limited key); the daemon is restarted while the ingest runs
   and the API while the retrain runs;
4. every month materializes (Dagster GraphQL), a champion is registered (MLflow REST) and `/predict`
   answers with it; every run ran in a container of its own, exited 0, under the memory limit;
5. a week's weather forecast dropped into the landing bucket is issued as robbery_forecast and served
   by `GET /forecast`, which the API reads from the data bucket with its own key: one that reads that
   bucket and nothing else, and cannot write; its healthcheck probes `/health/ready` and every request
   is in its JSON access log;
6. `down` then `up` keeps the data, the runs, the champion and the forecast;
7. everything the test created is removed (checked).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from crime_weather.core.names import COMUNAS
from crime_weather.sources.forecast import city_day
from crime_weather_tests import builders
from crime_weather_tests.compose import images
from crime_weather_tests.compose.engine import Engine, EngineUnavailable, start_engine
from crime_weather_tests.compose.stack import Stack, wait_for
from harness.processes import ROOT

pytestmark = [pytest.mark.compose, pytest.mark.shared_data, pytest.mark.timeout(1800)]

MONTHLY_ASSETS = ("raw_crime", "raw_weather", "daily_features")
LONG_RUNNING = ("postgres", "s3", "mlflow", "code-location", "dagster-webserver", "dagster-daemon", "api")
PUBLISHED = {"dagster-webserver": 3000, "mlflow": 5001, "api": 8800}
RUN_MEMORY_LIMIT, RUN_MEMORY_BYTES = "3g", 3 * 1024**3
STAGE_TAG = "crime_weather/stage"  # crime_weather.jobs.STAGE_TAG


@dataclass
class Story:
    """What happened while the stack loaded the data, for the tests to check."""

    stack: Stack
    shared_files: list[str]
    restarted_daemon_during: str = ""
    restarted_api_during: str = ""
    champion: str = ""
    issue_date: str = ""  # of the forecast file dropped once the champion was registered
    forecast_file: str = ""

    @property
    def landing_files(self) -> int:
        return len(self.shared_files) + bool(self.forecast_file)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    try:
        engine = start_engine()
    except EngineUnavailable as reason:
        pytest.skip(f"no Docker engine can run here: {reason}")
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="module")
def stack(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = time.monotonic()
    test_env = {
        "CRIME_WEATHER_TEST_BASE_IMAGE": images.base_image(),
        "CRIME_WEATHER_TEST_IMAGE_TAG": "compose-test",
        "CRIME_WEATHER_TEST_SEAWEEDFS_CONTEXT": str(images.seaweedfs_context()),
    }
    stack = Stack(engine.compose, tmp_path_factory.mktemp("stack"), test_env, RUN_MEMORY_LIMIT)
    stack.mark("base image", started)
    try:
        started = time.monotonic()
        stack.build()
        stack.mark("build", started)
        yield stack
    finally:
        try:
            stack.remove()
            left = stack.leftovers()
            assert not any(left.values()), f"the compose test left {left}"
        finally:
            print(f"compose test timings (s): {stack.timings}")


def running_runs(stack: Stack, stage: str) -> list[str]:
    """Ids of the runs of a stage (crime_weather/stage: ingest, train) whose container runs now."""
    running = {
        c["Config"]["Labels"]["dagster/run_id"] for c in stack.run_containers() if c["State"]["Running"]
    }
    tag = {"key": STAGE_TAG, "value": stage}
    return [run["runId"] for run in stack.runs() if run["runId"] in running and tag in run["tags"]]


@pytest.fixture(scope="module")
def story(stack: Stack, shared_raw: Path) -> Iterator[Story]:
    story = Story(stack, sorted(p.name for p in shared_raw.iterdir() if p.is_file()))
    try:
        # 1. A placeholder left in .env: check-env refuses, PostgreSQL never starts.
        refused = stack.run(
            "up", "--detach", "postgres", check=False, env=stack.process_env(POSTGRES_PASSWORD="change-me")
        )
        assert refused.returncode != 0
        assert (
            "POSTGRES_PASSWORD is still the placeholder 'change-me'" in stack.run("logs", "check-env").stdout
        )
        # Created, never started: its volume stays empty until the real start initialises it.
        assert stack.container("postgres")["State"]["Status"] == "created"

        # 2. The whole stack.
        started = time.monotonic()
        stack.run("up", "--detach")
        stack.wait_healthy("postgres", "s3", "mlflow", "code-location", "dagster-webserver", "dagster-daemon")
        stack.mark("up, healthy", started)

        # 3. The shared data into the landing bucket, as the README says (a mirror folder).
        started = time.monotonic()
        landed = stack.run(
            "run", "--rm", "--no-deps", "--volume", f"{shared_raw}:/mirror:ro",
            "--env", "CRIME_WEATHER_SOURCE=/mirror", "acquisition",
        )  # fmt: skip
        assert f"{len(story.shared_files)} fetched" in landed.stdout, landed.stdout

        # The daemon restarts while an ingest run is running ...
        stack.mark("data in the landing bucket", started)
        ingest = wait_for(lambda: running_runs(stack, "ingest"), 300, "an ingest run running", every=1)
        stack.mark("an ingest run running", started)
        stack.run("restart", "dagster-daemon")
        story.restarted_daemon_during = ingest[0]
        stack.mark("dagster-daemon restarted", started)
        # ... and the API while the retrain is.
        retrain = wait_for(lambda: running_runs(stack, "train"), 600, "the retrain running", every=1)
        stack.mark("the retrain running", started)
        stack.run("restart", "api")
        story.restarted_api_during = retrain[0]
        stack.mark("api restarted", started)

        story.champion = wait_for(stack.champion_version, 900, "a champion registered")
        stack.mark("champion registered", started)

        # 4. A week's weather forecast from today on into the landing bucket: README's one-file command.
        story.issue_date = city_day(time.time()).isoformat()
        story.forecast_file = f"pronostico_{story.issue_date}.json"
        forecast = stack.folder / story.forecast_file
        forecast.write_bytes(builders.forecast_json(story.issue_date))
        forecast.chmod(0o644)  # the image's unprivileged user reads it
        landed = stack.run(
            "run", "--rm", "--no-deps", "--volume", f"{forecast}:/mirror/{story.forecast_file}:ro",
            "--env", "CRIME_WEATHER_SOURCE=/mirror", "acquisition",
        )  # fmt: skip
        assert "1 fetched" in landed.stdout, landed.stdout
        stack.mark("forecast file in the landing bucket", started)
        yield story
    except BaseException:
        print(stack.logs())
        raise


def test_only_the_uis_and_the_api_are_published(stack: Stack, story: Story):
    for service in ("postgres", "s3", "code-location", "dagster-daemon"):
        assert not stack.container(service)["NetworkSettings"]["Ports"] or not any(
            stack.container(service)["NetworkSettings"]["Ports"].values()
        ), f"{service} is published"
    for service, port in PUBLISHED.items():
        bindings = stack.container(service)["NetworkSettings"]["Ports"][f"{port}/tcp"]
        assert [(b["HostIp"], b["HostPort"]) for b in bindings] == [
            ("127.0.0.1", stack.url({"dagster-webserver": "dagster"}.get(service, service)).rsplit(":", 1)[1])
        ]


# The sources of our packages, digested as installed (site-packages) or as in this tree.
SOURCES_DIGEST = """
import hashlib, importlib.util, pathlib, sys
digest = hashlib.sha256()
for package in ("crime_weather", "serving"):
    root = pathlib.Path(sys.argv[1], package) if len(sys.argv) > 1 else pathlib.Path(
        importlib.util.find_spec(package).submodule_search_locations[0])
    for path in sorted(root.rglob("*.py")):
        digest.update(f"{package}/{path.relative_to(root).as_posix()}".encode() + path.read_bytes())
print(digest.hexdigest())
"""


def test_the_images_run_the_code_of_this_tree(stack: Stack, story: Story):
    """A rebuild installs the sources it was given: uv's cache keys the project's wheel on its
    pyproject.toml only, and once served a previous build's code to every container."""
    here = subprocess.run(
        [sys.executable, "-c", SOURCES_DIGEST, str(ROOT)], capture_output=True, text=True, check=True
    ).stdout.strip()
    for service in ("code-location", "api"):
        installed = stack.run("exec", "-T", service, "python", "-c", SOURCES_DIGEST).stdout.strip()
        assert installed == here, f"{service} runs other sources than this tree"


def test_every_month_materializes(stack: Stack, story: Story):
    months = stack.partitions("daily_features")["partitionKeys"]
    # The shared files cover 2016-01 .. 2020-02: 50 consecutive months.
    assert months[0] == "2016-01" and months[-1] == "2020-02" and len(months) == 50
    assert all(re.fullmatch(r"\d{4}-\d{2}", month) for month in months)
    for asset in MONTHLY_ASSETS:
        wait_for(
            lambda asset=asset: (
                set(stack.partitions(asset)["assetPartitionStatuses"]["materializedPartitions"])
                == set(months)
            ),
            300,
            f"every month of {asset} materialized",
            lambda asset=asset: stack.partitions(asset)["assetPartitionStatuses"],
        )
        assert not stack.partitions(asset)["assetPartitionStatuses"]["failedPartitions"]


def test_the_champion_is_served(stack: Stack, story: Story):
    wait_for(lambda: stack.predict().status_code == 200, 300, "the API serving a champion")
    response = stack.predict()
    body = response.json()
    assert body["model_version"] == story.champion and body["expected_robberies"] >= 0


def test_a_forecast_file_in_landing_is_served_by_the_api(stack: Stack, story: Story):
    """The landing sensor issues the day's forecast; the API reads it from the data bucket."""
    started = time.monotonic()
    wait_for(
        lambda: stack.forecast().status_code == 200,
        300,
        "GET /forecast answering",
        lambda: stack.forecast().text[:500],
    )
    stack.mark("forecast served", started)
    body = stack.forecast().json()
    assert body["issue_date"] == story.issue_date and body["model_version"] == story.champion
    assert body["weather_source"].endswith(story.forecast_file)
    days = [day.date().isoformat() for day in pd.date_range(story.issue_date, periods=7)]
    assert [(row["date"], row["comuna"]) for row in body["rows"]] == [(d, c) for d in days for c in COMUNAS]
    for row in body["rows"]:  # counts within the validated horizon; beyond it, only the weather's ratio
        if row["horizon_days"] <= body["max_horizon_days"]:
            assert row["expected_robberies"] >= 0, row
        else:
            assert row["expected_robberies"] is None and row["reason"] and row["weather_rate_ratio"] > 0, row
    # forecast_on_promotion has seen the champion too: it issues the day's forecast again when its
    # tick comes after the file landed. Then every run has finished in its container (the tests below
    # inspect every run's container, and `down` must not cut a run short).
    wait_for(
        lambda: stack.sensor_cursor("forecast_on_promotion") == story.champion,
        120,
        "forecast_on_promotion handling the champion",
    )
    wait_for(stack.runs_settled, 180, "every run finished and its container exited")


# Tries each S3 call with the container's own key and prints what came of it.
S3_ATTEMPTS = """
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=os.environ["CRIME_WEATHER_S3_ENDPOINT_URL"],
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
def attempt(method, **arguments):
    try:
        getattr(s3, method)(**arguments)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "allowed"
print(json.dumps([attempt(method, **arguments) for method, arguments in json.loads(sys.argv[1])]))
"""


def test_the_apis_key_reads_the_data_bucket_and_cannot_write_it(stack: Stack, story: Story):
    env = dict(item.split("=", 1) for item in stack.container("api")["Config"]["Env"])
    assert env["AWS_ACCESS_KEY_ID"] == stack.values["S3_API_ACCESS_KEY"]
    assert env["AWS_ACCESS_KEY_ID"] != stack.values["S3_APP_ACCESS_KEY"]
    issued = f"robbery_forecast/{story.issue_date}.parquet"
    attempts = [
        ("list_objects_v2", {"Bucket": "data", "Prefix": "robbery_forecast/"}),
        ("get_object", {"Bucket": "data", "Key": issued}),
        ("put_object", {"Bucket": "data", "Key": "robbery_forecast/2099-01-01.parquet", "Body": "x"}),
        ("put_object", {"Bucket": "data", "Key": issued, "Body": "x"}),
        ("delete_object", {"Bucket": "data", "Key": issued}),
        ("list_objects_v2", {"Bucket": "landing"}),
        ("get_object", {"Bucket": "landing", "Key": story.forecast_file}),
        ("create_bucket", {"Bucket": "api-made"}),
    ]
    out = stack.run("exec", "-T", "api", "python", "-c", S3_ATTEMPTS, json.dumps(attempts)).stdout
    assert json.loads(out) == ["allowed", "allowed", *["AccessDenied"] * 6], out
    assert stack.forecast().json()["issue_date"] == story.issue_date, "the issued forecast is intact"


def test_restarts_mid_work_lost_nothing(stack: Stack, story: Story):
    assert story.restarted_daemon_during and story.restarted_api_during
    runs = {run["runId"]: run for run in stack.runs()}
    assert runs[story.restarted_daemon_during]["status"] == "SUCCESS"
    assert runs[story.restarted_api_during]["status"] == "SUCCESS"
    wait_for(lambda: all(r["status"] in ("SUCCESS",) for r in stack.runs()), 300, "every run succeeded")
    # No landing file was ingested twice: one run per sensor run key.
    keys = [
        (tags["dagster/sensor_name"], tags["dagster/run_key"])
        for run in stack.runs()
        if "dagster/run_key" in (tags := {t["key"]: t["value"] for t in run["tags"]})
    ]
    assert keys and len(keys) == len(set(keys)), keys
    # Both came back: healthy again (the API once it has loaded the champion).
    stack.wait_healthy("dagster-daemon", "api", timeout=180)


def test_the_api_is_probed_for_readiness_and_logs_every_request(stack: Stack, story: Story):
    container = stack.container("api")
    assert container["Config"]["Healthcheck"]["Test"][-1] == "http://127.0.0.1:8800/health/ready"
    stack.wait_healthy("api", timeout=180)
    log = stack.run("logs", "--no-color", "--no-log-prefix", "api").stdout
    requests = [json.loads(line) for line in log.splitlines() if line.startswith('{"ts"')]
    # The healthcheck's own requests, from inside the container, answered 200 once a champion was in.
    probes = [r for r in requests if r["client"] == "127.0.0.1"]
    assert probes and {r["path"] for r in probes} == {"/health/ready"}
    assert probes[-1]["status"] == 200
    assert any(r["path"] == "/forecast" and r["status"] == 200 for r in requests)


def test_each_run_ran_in_its_own_container(stack: Stack, story: Story):
    wait_for(
        stack.runs_settled,
        180,
        "every run finished and its container exited",
        lambda: [(run["jobName"], run["status"]) for run in stack.runs() if run["status"] != "SUCCESS"],
    )
    runs = stack.runs()
    containers = {c["Config"]["Labels"]["dagster/run_id"]: c for c in stack.run_containers()}
    assert {run["runId"] for run in runs} <= set(containers), "a run without its container"
    image = stack.container("code-location")["Config"]["Image"]
    for run in runs:
        container = containers[run["runId"]]
        assert container["State"]["Status"] == "exited" and container["State"]["ExitCode"] == 0, run
        assert container["Config"]["Image"] == image
        assert container["HostConfig"]["Memory"] == RUN_MEMORY_BYTES
        assert container["Config"]["Cmd"][:3] == ["dagster", "api", "execute_run"]
        assert list(container["NetworkSettings"]["Networks"]) == [stack.values["CRIME_WEATHER_NETWORK"]]
    assert len({c["Id"] for c in containers.values()}) == len(containers)


def landing_and_data_objects(stack: Stack) -> tuple[int, int]:
    """Objects in the landing bucket and daily_features partitions in the data bucket, counted from
    inside the stack with the platform's own key (S3 is not published)."""
    script = (
        "import boto3, os; s3 = boto3.client('s3', endpoint_url=os.environ['CRIME_WEATHER_S3_ENDPOINT_URL']); "
        "n = lambda b, p='': sum(len(page.get('Contents', [])) for page in "
        "s3.get_paginator('list_objects_v2').paginate(Bucket=b, Prefix=p)); "
        "print(n('landing'), n('data', 'daily_features/'))"
    )
    out = stack.run("exec", "-T", "code-location", "python", "-c", script).stdout.split()
    return int(out[0]), int(out[1])


def test_down_then_up_keeps_the_data_and_the_champion(stack: Stack, story: Story):
    months = stack.partitions("daily_features")["partitionKeys"]
    before = {run["runId"] for run in stack.runs()}
    assert landing_and_data_objects(stack) == (story.landing_files, len(months))

    started = time.monotonic()
    stack.run("down", "--timeout", "30")
    assert not stack.run("ps", "--all", "--quiet").stdout.strip()
    stack.run("up", "--detach")
    stack.wait_healthy(*LONG_RUNNING[:-1])
    wait_for(lambda: stack.predict().status_code == 200, 300, "the API serving after up")
    stack.mark("down, up, serving", started)

    assert stack.champion_version() == story.champion
    assert stack.predict().json()["model_version"] == story.champion
    assert set(stack.partitions("daily_features")["assetPartitionStatuses"]["materializedPartitions"]) == set(
        months
    )
    assert landing_and_data_objects(stack) == (story.landing_files, len(months))
    assert stack.forecast().json()["issue_date"] == story.issue_date
    # The sensor's cursor survived too: two of its ticks later, nothing is ingested again.
    time.sleep(40)
    after = stack.runs()
    new = [(run["jobName"], run["status"], run["tags"]) for run in after if run["runId"] not in before]
    assert {run["runId"] for run in after} == before, new
