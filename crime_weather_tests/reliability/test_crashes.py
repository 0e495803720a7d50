"""Processes killed in the middle of an ingest, then restarted: nothing lost, nothing run twice.

One platform for the module (MLflow server, Dagster daemon and webserver), its landing
zone and warehouse in S3 (moto's server on loopback), as in compose. Each test drops a crime file
of twelve months, waits until the ingest run is inside its first step, and SIGKILLs:
- the webserver's process group and the daemon's main process only: runs are not the webserver's
  business, and the daemon's code server and run worker outlive it, so the run finishes once;
- the daemon's whole process group (daemon, code server, run worker): run monitoring sees the
  worker is gone once the daemon is back (crime_weather/runtime/run_launcher.py), fails the run and
  retries it once, and every month is materialized.
Both times the sensor's cursor survives and no file is ingested twice. The retrain automation is
slowed to once an hour here: these tests are about ingestion.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import dagster as dg
import pytest

from crime_weather_tests import builders
from crime_weather_tests.platform import Platform, wait_for
from crime_weather_tests.reliability.helpers import (
    PARENT_RUN_TAG,
    RETRY_NUMBER_TAG,
    RUN_KEY_TAG,
    assert_loopback_only,
    end_group,
    failure_text,
    fast_dagster_yaml,
    kill_group,
    kill_main_process,
    materialized,
    runs_for_file,
    sensor_cursor,
    sensor_has_ticked,
    start,
    wait_finished,
    wait_quiet,
)
from harness.processes import wait_http

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

LANDING_BUCKET, DATA_BUCKET = "reliability-landing", "reliability-data"


def months_of(year: int) -> list[str]:
    return [f"{year}-{month:02d}" for month in range(1, 13)]


class Crashes:
    """The platform, its S3 buckets, and the process groups a kill left behind (ended at teardown)."""

    def __init__(self, platform: Platform, s3) -> None:
        self.platform, self.s3 = platform, s3
        self.leftovers: list[int] = []

    def put(self, name: str, year: int) -> None:
        events = builders.events_for(months_of(year), per_day=250, seed=year)  # ~90k rows: a few seconds
        body = builders.to_csv(builders.release_current(events))
        self.s3.put_object(Bucket=LANDING_BUCKET, Key=name, Body=body)

    def in_first_step(self, name: str, timeout: float = 180) -> dg.DagsterRun:
        """The ingest run of `name`, once it has started parsing (inside raw_crime)."""
        instance = self.platform.instance()

        def launched() -> dg.DagsterRun | None:
            found = [run for run in runs_for_file(instance, name) if run.status != dg.DagsterRunStatus.QUEUED]
            return found[0] if found else None

        def in_step(run: dg.DagsterRun) -> dg.DagsterRun | None:
            run = instance.get_run_by_id(run.run_id)
            steps = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            return run if run.status == dg.DagsterRunStatus.STARTED and steps else None

        try:
            run = wait_for(launched, timeout, f"the ingest of {name} launched", every=0.5)
            return wait_for(lambda: in_step(run), 120, f"the ingest of {name} in its first step", every=0.05)
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{self.platform.logs()}") from None

    def warehouse_keys(self) -> set[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=DATA_BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


@pytest.fixture(scope="module")
def crashes(tmp_path_factory: pytest.TempPathFactory, moto_s3: str) -> Iterator[Crashes]:
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    for bucket in (LANDING_BUCKET, DATA_BUCKET):
        s3.create_bucket(Bucket=bucket)
    platform = Platform(
        tmp_path_factory.mktemp("crashes"),
        dagster_yaml=fast_dagster_yaml(tmp_path_factory.mktemp("config")),
        env={
            "CRIME_WEATHER_LANDING_URI": f"s3://{LANDING_BUCKET}",
            "CRIME_WEATHER_WAREHOUSE_URI": f"s3://{DATA_BUCKET}",
            "CRIME_WEATHER_S3_ENDPOINT_URL": moto_s3,
            "CRIME_WEATHER_AUTOMATION_SECONDS": "3600",
        },
    )
    state = Crashes(platform, s3)
    try:
        start(platform, webserver=True, api=False)
        yield state
    finally:
        platform.stop()
        for pgid in state.leftovers:
            end_group(pgid, timeout=5)


def test_every_service_listens_on_loopback_only(crashes: Crashes):
    platform = crashes.platform
    sensor_has_ticked(platform.instance(), since=0)  # the daemon's code server is up
    ports = [platform.mlflow_port, platform.web_port]
    assert_loopback_only(platform, ["mlflow", "daemon", "webserver"], ports)


def test_killing_the_webserver_and_the_daemon_process_mid_ingest_loses_nothing(crashes: Crashes):
    platform, instance = crashes.platform, crashes.platform.instance()
    crashes.put("delitos_2016.csv", 2016)
    run = crashes.in_first_step("delitos_2016.csv")
    cursor = sensor_cursor(instance)
    assert "delitos_2016.csv" in cursor  # stored by the tick that requested the run

    kill_group(platform, "webserver")  # the UI: runs are not its business
    crashes.leftovers.append(kill_main_process(platform, "daemon"))  # its code server lives on
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # mid-ingest
    (done,) = wait_finished(instance, lambda: runs_for_file(instance, "delitos_2016.csv"), 1, 120, "the run")
    assert done.status.value == "SUCCESS", failure_text(instance, run.run_id)  # its worker finished it

    restarted = time.time()
    platform.webserver.start()  # answering is checked by the last test
    platform.daemon.start()
    tick = sensor_has_ticked(instance, since=restarted)
    assert tick.status.value == "SKIPPED" and "unchanged" in (tick.skip_reason or "")
    assert sensor_cursor(instance) == cursor
    assert [r.run_id for r in runs_for_file(instance, "delitos_2016.csv")] == [run.run_id]  # no second run
    assert materialized(instance, "daily_features") >= set(months_of(2016))


def test_killing_the_daemon_group_fails_the_run_and_retries_it_once(crashes: Crashes):
    platform, instance = crashes.platform, crashes.platform.instance()
    crashes.put("delitos_2017.csv", 2017)
    run = crashes.in_first_step("delitos_2017.csv")
    cursor = sensor_cursor(instance)

    kill_group(platform, "daemon")  # the daemon, its code server and the run worker
    time.sleep(1)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # nobody will end it
    assert not materialized(instance, "daily_features") >= set(months_of(2017))

    platform.daemon.start()
    first, retry = wait_finished(
        instance, lambda: runs_for_file(instance, "delitos_2017.csv"), 2, 240, "the run failed and retried"
    )
    assert first.run_id == run.run_id and first.status.value == "FAILURE"
    assert "is gone (killed, or its machine restarted) before the run ended" in failure_text(
        instance, run.run_id
    )
    assert retry.tags[PARENT_RUN_TAG] == run.run_id and retry.tags[RETRY_NUMBER_TAG] == "1"
    assert retry.tags["dagster/retry_strategy"] == "ALL_STEPS"  # the whole ingest again, not a resume
    assert retry.status.value == "SUCCESS", failure_text(instance, retry.run_id)

    wait_quiet(instance, seconds=5)
    runs = runs_for_file(instance, "delitos_2017.csv")
    assert [r.run_id for r in runs] == [run.run_id, retry.run_id]  # one sensor request, one retry
    requested = [r for r in runs if r.tags.get(RUN_KEY_TAG) and PARENT_RUN_TAG not in r.tags]
    assert [r.run_id for r in requested] == [run.run_id]
    assert sensor_cursor(instance) == cursor
    assert materialized(instance, "daily_features") >= set(months_of(2017))


def test_no_partition_is_lost_and_the_ui_shows_it(crashes: Crashes):
    platform, instance = crashes.platform, crashes.platform.instance()
    every_month = set(months_of(2016) + months_of(2017))
    assert set(instance.get_dynamic_partitions("months")) == every_month
    for asset in ("raw_crime", "raw_weather", "daily_features"):
        assert materialized(instance, asset) == every_month, asset
    keys = crashes.warehouse_keys()
    for asset in ("raw_crime", "raw_weather", "daily_features"):
        assert {f"{asset}/{month}.parquet" for month in every_month} <= keys
    assert not [key for key in keys if not key.endswith(".parquet")]  # no partial upload left behind

    wait_http(f"http://127.0.0.1:{platform.web_port}/server_info", timeout=120)  # restarted earlier
    shown = platform.graphql(
        """{
          runsOrError { ... on Runs { results { status tags { key value } } } }
          assetNodeOrError(assetKey: {path: ["daily_features"]}) {
            ... on AssetNode { partitionStats { numMaterialized numFailed } }
          }
        }"""
    )
    statuses = sorted(run["status"] for run in shown["runsOrError"]["results"])
    assert statuses == ["FAILURE", "SUCCESS", "SUCCESS"]  # 2016; 2017 killed, then its retry
    assert shown["assetNodeOrError"]["partitionStats"] == {"numMaterialized": 24, "numFailed": 0}
