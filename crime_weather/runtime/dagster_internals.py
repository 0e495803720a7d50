"""Every use of Dagster's private API in the project, in one place (pinned: dagster 1.13.27).

The embedded run launcher (run_launcher.py) needs what Dagster exposes to run launchers but not as
public API: the health-check result types, the retry daemon's verdict and its tags, and the pid the
run worker reports when it starts. Nothing else imports `dagster._*`.
crime_weather_tests/runtime/test_dagster_internals.py fails loudly when an upgrade moves or changes
any of it: re-check this module, then update the pin there.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.events import EngineEventData
from dagster._core.execution.retries import auto_reexecution_should_retry_run
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import RETRY_STRATEGY_TAG, WILL_RETRY_TAG

PINNED_VERSION = "1.13.27"

# The run worker's first engine event (dagster/_grpc/impl.py) says this and carries its pid.
WORKER_STARTED = "Started process for run"

__all__ = [
    "PINNED_VERSION",
    "RETRY_STRATEGY_TAG",
    "WILL_RETRY_TAG",
    "WORKER_STARTED",
    "CheckRunHealthResult",
    "WorkerStatus",
    "report_worker_started",
    "will_retry",
    "worker_started",
]


def worker_started(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, when) the run's worker process reported it started, or None if no worker did here."""
    entries = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    for entry in reversed(entries):
        event = entry.dagster_event
        if event is None or not (event.message or "").startswith(WORKER_STARTED):
            continue
        pid = event.engine_event_data.metadata.get("pid")
        if pid is not None:
            return int(str(pid.value)), entry.timestamp
    return None


def report_worker_started(instance: dg.DagsterInstance, run: dg.DagsterRun, pid: int) -> None:
    """The event a run worker stores when it starts (for tests that stand in for one)."""
    instance.report_engine_event(f"{WORKER_STARTED} (pid: {pid}).", run, EngineEventData.in_process(pid))


def will_retry(instance: dg.DagsterInstance, failed: dg.DagsterRun) -> bool:
    """Dagster's own verdict: would the retry daemon re-run this failed run?"""
    return auto_reexecution_should_retry_run(instance, failed, None)
