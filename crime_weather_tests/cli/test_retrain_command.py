"""`crime-weather retrain` submits to the instance's run queue (runtime/retrain.py): two at once while a
retrain runs -> two runs, both QUEUED behind it (one retrain at a time). No daemon: the queue only."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
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


def test_two_retrains_at_once_while_one_runs_both_wait_in_the_queue(platform_home: Path):  # noqa: F811
    with dg.DagsterInstance.get() as instance:
        running = instance.create_run_for_job(
            dg.GraphDefinition(name="busy").to_job(),
            tags={STAGE_TAG: TRAIN_STAGE},
            status=dg.DagsterRunStatus.STARTED,
        )
    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda _: retrain("--no-follow", "--json"), range(2)))
    assert [d.returncode for d in done] == [0, 0], [d.stderr for d in done]
    answers = [json.loads(d.stdout) for d in done]
    assert len({answer["run_id"] for answer in answers}) == 2
    for answer in answers:
        assert answer["status"] == "QUEUED"
        assert f"waits for retrain run {running.run_id[:8]} to end" in answer["detail"]
    with dg.DagsterInstance.get() as instance:
        runs = [instance.get_run_by_id(answer["run_id"]) for answer in answers]
    assert all(run.job_name == "retrain" and run.status is dg.DagsterRunStatus.QUEUED for run in runs)
