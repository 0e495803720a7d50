"""Fails loudly when a Dagster upgrade moves or changes the private API runtime/dagster_internals.py uses.

The behaviour built on it is tested end to end in reliability/ (a killed run worker is failed and
retried); these tests say *which* internal changed, before those slower tests say *that* something did.
"""

import subprocess
import sys

import dagster as dg

from crime_weather.runtime import dagster_internals as internals


def test_dagster_is_the_release_the_internals_were_checked_against():
    assert dg.__version__ == internals.PINNED_VERSION, (
        f"dagster {dg.__version__} is not {internals.PINNED_VERSION}: re-check every use in "
        "crime_weather/runtime/dagster_internals.py against the new release, then update PINNED_VERSION"
    )


def test_health_results_and_retry_tags_keep_their_shape():
    result = internals.CheckRunHealthResult(internals.WorkerStatus.FAILED, "gone")
    assert (result.status.value, result.msg) == ("FAILED", "gone")
    assert {status.value for status in internals.WorkerStatus} >= {"RUNNING", "SUCCESS", "FAILED"}
    assert internals.WILL_RETRY_TAG == "dagster/will_retry"
    assert internals.RETRY_STRATEGY_TAG == "dagster/retry_strategy"


def test_a_recorded_worker_start_is_read_back_and_the_retry_verdict_follows_the_run_retries_setting(tmp_path):
    @dg.op
    def noop() -> None: ...

    @dg.job
    def job() -> None:
        noop()

    settings = {"run_retries": {"enabled": True, "max_retries": 1}}
    with dg.instance_for_test(temp_dir=str(tmp_path), overrides=settings) as instance:
        run = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        assert internals.worker_started(instance, run.run_id) is None
        internals.report_worker_started(instance, run, 4242)
        pid, recorded_at = internals.worker_started(instance, run.run_id)
        assert pid == 4242 and recorded_at > 0
        assert internals.will_retry(instance, run.with_status(dg.DagsterRunStatus.FAILURE)) is True


def test_the_run_worker_still_reports_its_pid_in_the_message_we_read():
    """The grpc server's run worker says WORKER_STARTED with a pid: read Dagster's own source."""
    source = subprocess.run(
        [sys.executable, "-c", "import inspect, dagster._grpc.impl as m; print(inspect.getsource(m))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert internals.WORKER_STARTED in source
    assert "EngineEventData.in_process(pid)" in source
