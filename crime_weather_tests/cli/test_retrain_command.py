"""`crime-weather retrain` submits to the instance's run queue (runtime/retrain.py): while a retrain
runs, the new run is QUEUED behind it (one retrain at a time) and the command says so. No daemon: the
queue only; two submissions at once with a real daemon are runtime/test_retrain.py's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from crime_weather.orchestration.jobs import STAGE_TAG, TRAIN_STAGE
from crime_weather_tests.runtime.test_retrain import platform_home  # noqa: F401 - the fixture
from harness.processes import BIN

pytestmark = pytest.mark.timeout(600)


def retrain(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "crime-weather"), "retrain", *args]
    return subprocess.run(command, env=dict(os.environ), capture_output=True, text=True, timeout=400)


def test_a_retrain_while_one_runs_waits_in_the_queue_and_says_behind_which(platform_home: Path):  # noqa: F811
    with dg.DagsterInstance.get() as instance:
        running = instance.create_run_for_job(
            dg.GraphDefinition(name="busy").to_job(),
            tags={STAGE_TAG: TRAIN_STAGE},
            status=dg.DagsterRunStatus.STARTED,
        )
    done = retrain("--no-follow", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "QUEUED"
    assert f"waits for retrain run {running.run_id[:8]} to end" in answer["detail"]
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(answer["run_id"])
    assert run.job_name == "retrain" and run.status is dg.DagsterRunStatus.QUEUED
