"""The embedded default's run launcher: Dagster's DefaultRunLauncher, plus a run worker health check.

With the default launcher, runs are subprocesses of the code server the daemon starts, and run
monitoring cannot tell whether a run's process is still alive: a run whose worker was killed (the
daemon's process group killed, the OOM killer, a reboot) stays STARTED until `max_runtime_seconds`
(an hour), holding its months "in progress" and blocking the retrain. Here monitoring asks the
operating system whether the worker process the run recorded is still there: when it is gone, the
run is failed at the next monitoring poll, and `run_retries` re-executes it once.

Dagster stores a run's failure event before its new status, and its retry daemon, reading in
between, sees a run still STARTED and never retries it (seen when a restarted daemon's monitoring
and retry threads start together). So before reporting a dead worker, the launcher tags the run
with Dagster's own retry verdict and the ALL_STEPS strategy, which needs no FAILURE status: the
retry daemon then retries it whatever order it reads in. A run whose worker died is re-run whole.

Only for one machine (the daemon and the run workers share a process table); compose and clusters
use Docker's and Kubernetes' launchers, which have their own health checks.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterRun, DagsterRunStatus, DefaultRunLauncher

from crime_weather.runtime.dagster_internals import (
    RETRY_STRATEGY_TAG,
    WILL_RETRY_TAG,
    CheckRunHealthResult,
    WorkerStatus,
    will_retry,
    worker_started,
)

EXITED_STATES = ("Z", "X")  # a zombie or dead task: exited, not yet reaped


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from its 3rd field on (state, ppid, pgrp, ...; the name before them may hold
    spaces), or None when the process is gone or /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _process_start(pid: int) -> float | None:
    """When `pid` started (epoch seconds), or None where /proc cannot say."""
    fields = stat_fields(pid)
    if fields is None:
        return None
    if fields[0] in EXITED_STATES:
        return float("inf")
    try:
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def worker_alive(pid: int, recorded_at: float) -> bool:
    """Whether the process the run recorded at `recorded_at` still runs (not a new one with its pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    started = _process_start(pid)
    return started is None or started <= recorded_at + 1.0


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers run monitoring can check (see the module docstring)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        started = worker_started(self._instance, run.run_id)
        if started is None:  # executed in another process (e.g. `dagster asset materialize`): unknown here
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker process recorded")
        pid, recorded_at = started
        if worker_alive(pid, recorded_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is running")
        current = self._instance.get_run_by_id(run.run_id)  # read after the worker is known gone
        if current is None or current.status != DagsterRunStatus.STARTED:  # it ended before exiting
            return CheckRunHealthResult(WorkerStatus.SUCCESS, f"run worker process {pid} ended the run")
        self._tag_for_retry(current)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"run worker process {pid} is gone (killed, or its machine restarted) before the run ended",
        )

    def _tag_for_retry(self, run: DagsterRun) -> None:
        """Record, before monitoring fails the run, whether it will be retried (see the module docstring)."""
        if not self._instance.run_retries_enabled:
            return
        failed = run.with_status(DagsterRunStatus.FAILURE)  # the verdict Dagster gives once it has failed
        verdict = will_retry(self._instance, failed)
        self._instance.add_run_tags(
            run.run_id, {WILL_RETRY_TAG: str(verdict).lower(), RETRY_STRATEGY_TAG: "ALL_STEPS"}
        )
