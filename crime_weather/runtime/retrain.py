"""`make retrain`: submit a run of the `retrain` job to the instance `make run` uses, and follow it.

Submitted, not executed here: the run enters the instance's run queue (dagster.yaml: two runs at a
time, one retrain at a time), so it never trains beside a retrain already running, the automation's
or another `make retrain`; the daemon of `make run` launches it and run monitoring watches it like
any other run. This process only prints the run's status until it ends (Ctrl-C stops following, not
the run). The run is created by `dagster job launch` from workspace.yaml, the code location the
daemon loads, so the daemon can launch it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from crime_weather.core.settings import PlatformSettings
from crime_weather.orchestration.jobs import STAGE_TAG, TRAIN_STAGE, retrain_job
from crime_weather.runtime.environment import ROOT, platform_environment, prepare_home

WORKSPACE = ROOT / "workspace.yaml"
LOCATION = "crime_weather"  # workspace.yaml's location_name


def submit(settings: PlatformSettings, run_id: str | None = None) -> str:
    """Create a run of the retrain job and submit it to the instance's run coordinator (queued);
    returns its id."""
    run_id = run_id or str(uuid.uuid4())
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "job", "launch", "-w", str(WORKSPACE), "-l", LOCATION]
    command += ["-j", retrain_job.name, "--run-id", run_id]
    done = subprocess.run(
        command,
        env={**os.environ, **platform_environment(settings)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dagster job launch failed ({done.returncode}): {done.stderr[-2000:]}")
    return run_id


def _waiting_behind(instance: dg.DagsterInstance, run_id: str) -> str:
    running = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED],
            tags={STAGE_TAG: TRAIN_STAGE},
        )
    )
    others = [run.run_id[:8] for run in running if run.run_id != run_id]
    if others:
        return f"waits for retrain run {', '.join(others)} to end (one retrain at a time)"
    return "waits for the daemon (make run) to launch it"


def follow(
    instance: dg.DagsterInstance,
    run_id: str,
    say: Callable[[str], None] = print,
    poll_seconds: float = 2.0,
) -> dg.DagsterRunStatus:
    """Print the run's status whenever it changes, until it ends; returns the final status."""
    last: dg.DagsterRunStatus | None = None
    while True:
        run = instance.get_run_by_id(run_id)
        if run is None:
            raise LookupError(f"no run {run_id} in the instance at {instance.root_directory}")
        if run.status != last:
            last = run.status
            detail = f": {_waiting_behind(instance, run_id)}" if last is dg.DagsterRunStatus.QUEUED else ""
            say(f"retrain run {run_id[:8]} {last.value}{detail}")
        if run.is_finished:
            return run.status
        time.sleep(poll_seconds)


def main() -> int:
    settings = PlatformSettings()
    prepare_home(settings)
    os.environ.update(platform_environment(settings))
    run_id = submit(settings)
    print(f"submitted retrain run {run_id}: {settings.dagster_url}/runs/{run_id}")
    with dg.DagsterInstance.get() as instance:
        try:
            status = follow(instance, run_id)
        except KeyboardInterrupt:
            print(f"stopped following; run {run_id[:8]} goes on (the Dagster UI shows it)")
            return 130
    return 0 if status is dg.DagsterRunStatus.SUCCESS else 1


if __name__ == "__main__":
    sys.exit(main())
