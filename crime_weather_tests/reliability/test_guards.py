"""The pieces the fault tests rely on, each on its own and fast: the run worker health check, the
refused-month guards, and the MLflow outage message. Real Dagster instances and processes; no platform.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from crime_weather.orchestration.resources import MlflowTracking
from crime_weather.runtime.dagster_internals import report_worker_started
from crime_weather.runtime.run_launcher import LocalRunLauncher, worker_alive
from crime_weather.sources.catalog import CRIME, WEATHER, LandingFile
from crime_weather.tables.landing_plan import plan_ingest
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import evaluate_landing_sensor, execute, ingest_range, materialized
from harness.processes import ROOT, free_port


# --- a run whose worker died ---------------------------------------------------------------------
def test_a_worker_is_alive_until_it_exits_and_a_reused_pid_is_not_it():
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        recorded = time.time()
        assert worker_alive(worker.pid, recorded)
        # A process that started after the run recorded its worker is another process.
        assert not worker_alive(worker.pid, recorded - 3600)
    finally:
        worker.kill()
        worker.wait()
    assert not worker_alive(worker.pid, recorded)


@dg.op
def _noop() -> None:
    pass


@dg.job
def _job() -> None:
    _noop()


def test_monitoring_sees_a_dead_worker_and_only_a_dead_one(tmp_path: Path):
    overrides = {
        "run_launcher": {"module": "crime_weather.runtime.run_launcher", "class": "LocalRunLauncher"},
        "run_retries": {"enabled": True, "max_retries": 1},
    }
    with dg.instance_for_test(overrides=overrides, temp_dir=str(tmp_path)) as instance:
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
        run = instance.create_run_for_job(_job, status=dg.DagsterRunStatus.STARTED)
        # No worker recorded (e.g. `dagster asset materialize` runs in its own process): not judged.
        assert instance.run_launcher.check_run_worker_health(run).status.value == "RUNNING"

        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        report_worker_started(instance, run, worker.pid)
        assert instance.run_launcher.check_run_worker_health(run).status.value == "RUNNING"
        worker.kill()
        worker.wait()
        result = instance.run_launcher.check_run_worker_health(run)
        assert result.status.value == "FAILED"
        assert f"run worker process {worker.pid} is gone" in result.msg
        # Tagged for its retry before monitoring fails it: the retry daemon cannot miss it.
        tags = instance.get_run_by_id(run.run_id).tags
        assert tags["dagster/will_retry"] == "true" and tags["dagster/retry_strategy"] == "ALL_STEPS"

        # A worker that ended its run and then exited, while monitoring still saw the run STARTED:
        # not a dead worker, and nothing is tagged for a retry.
        finished = instance.create_run_for_job(_job, status=dg.DagsterRunStatus.SUCCESS)
        report_worker_started(instance, finished, worker.pid)
        seen = finished.with_status(dg.DagsterRunStatus.STARTED)
        assert instance.run_launcher.check_run_worker_health(seen).status.value == "SUCCESS"
        assert "dagster/will_retry" not in instance.get_run_by_id(finished.run_id).tags


def test_the_embedded_instance_uses_it_and_retries_runs_that_died(tmp_path: Path, monkeypatch):
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_monitoring_enabled
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure  # bad data is not retried
    assert config["run_monitoring"]["poll_interval_seconds"] <= 30  # a dead run is failed soon


# --- a refused month: nothing is built on it -------------------------------------------------------
def crime(key, months, landed=1.0):
    return LandingFile(key, "1", landed, CRIME, "delitos_current", tuple(months))


def test_a_weather_change_leaves_refused_months_out():
    files = [crime("a.csv", ["2019-01", "2019-02", "2019-03"])]
    changed = [
        *files,
        LandingFile("w.csv", "1", 2.0, WEATHER, "smn_daily", ("2019-01", "2019-02", "2019-03")),
    ]
    known = ["2019-01", "2019-02", "2019-03"]
    (run,) = plan_ingest(files, changed, known, refused_months={"2019-03"}).runs
    assert run.rebuilds == WEATHER and run.months == ("2019-01", "2019-02")
    assert plan_ingest(files, changed, known, refused_months=set(known)).runs == []


@pytest.fixture
def refused_march(home: Path, landing: Path):
    """March's only crime file has 10 % bad rows (the limit is 1 %): raw_crime stored, its check failed."""
    frame = builders.release_current(builders.events_for(["2019-03"], per_day=3))
    frame.loc[frame.index % 10 == 0, "fecha"] = "no date"
    (landing / "crime.csv").write_bytes(builders.to_csv(frame))
    os.utime(landing / "crime.csv", (time.time() - 10, time.time() - 10))
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        first = evaluate_landing_sensor(instance)
        result = execute(instance, first.run_requests[0])
        assert not result.success and materialized(instance, "raw_crime") == {"2019-03"}
        yield instance, first.cursor


def test_weather_for_a_refused_month_waits_for_a_corrected_crime_file(refused_march, landing: Path):
    instance, cursor = refused_march
    march = pd.date_range("2019-03-01", "2019-03-31")
    (landing / "smn.csv").write_bytes(builders.to_csv(builders.smn_daily(march)))
    later = evaluate_landing_sensor(instance, cursor)
    assert isinstance(later, dg.SensorResult) and later.run_requests == []  # seen, nothing to run


def test_daily_features_refuses_to_build_on_a_refused_month(refused_march, landing: Path):
    instance, _ = refused_march
    march = pd.date_range("2019-03-01", "2019-03-31")
    (landing / "smn.csv").write_bytes(builders.to_csv(builders.smn_daily(march)))
    # As a click on "Materialize" in the UI would: weather and features for March.
    result = ingest_range(instance, "2019-03", "2019-03", assets=("raw_weather", "daily_features"))
    assert not result.success and materialized(instance, "daily_features") == set()
    (failure,) = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("raw_crime of 2019-03 failed its schema check")
    assert "crime.csv refused:" in description and "line 2: date missing" in description


# --- MLflow down ---------------------------------------------------------------------------------
def test_an_error_while_mlflow_is_down_says_so():
    tracking = MlflowTracking(
        tracking_uri=f"http://127.0.0.1:{free_port()}", experiment="e", registered_model="m"
    )  # nothing listens
    with pytest.raises(dg.Failure) as failure, tracking.explain_outage():
        raise ConnectionError("Max retries exceeded")
    assert f"MLflow at {tracking.tracking_uri} cannot be reached (ConnectError" in failure.value.description
    assert "the champion stays" in failure.value.description


def test_other_errors_pass_through(tmp_path: Path):
    tracking = MlflowTracking(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="e", registered_model="m"
    )
    with pytest.raises(ValueError, match="a bug"), tracking.explain_outage():
        raise ValueError("a bug")
