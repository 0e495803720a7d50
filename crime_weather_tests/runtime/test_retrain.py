"""`make retrain` submits to the instance's run queue, as the daemon of `make run` sees it: a real
instance in a temp DAGSTER_HOME with the project's dagster.yaml (queued run coordinator, one retrain at
a time) and a real `dagster-daemon`.

The home has no data, so each retrain fails at its split within seconds: the test watches the queue,
not the training.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest

from crime_weather.core.settings import get_settings
from crime_weather.orchestration.jobs import STAGE_TAG, TRAIN_STAGE
from crime_weather.runtime.environment import platform_environment, prepare_home
from crime_weather.runtime.retrain import follow, submit
from crime_weather_tests.platform import wait_for
from harness.processes import BIN, ROOT, SETTING_PREFIXES, Server

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def platform_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded home with its instance configured as `make run` configures it; MLflow a sqlite
    file there (no server), nothing of the caller's DAGSTER_HOME or tracking URI."""
    for name in [n for n in os.environ if n.startswith(SETTING_PREFIXES)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRIME_WEATHER_HOME", str(home))
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    settings = get_settings()
    prepare_home(settings)
    for name, value in platform_environment(settings).items():
        monkeypatch.setenv(name, value)
    return home


def test_two_retrains_submitted_at_once_queue_and_run_one_at_a_time(platform_home: Path):
    settings = get_settings()
    with ThreadPoolExecutor(2) as pool:  # a submission that fails raises here, with its error
        run_ids = list(pool.map(lambda _: submit(settings), range(2)))

    with dg.DagsterInstance.get() as instance:
        runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
        assert [run.status for run in runs] == [dg.DagsterRunStatus.QUEUED] * 2  # nothing ran here
        assert all(run.job_name == "retrain" and run.tags[STAGE_TAG] == TRAIN_STAGE for run in runs)

        daemon = Server(
            [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
            dict(os.environ),
            platform_home / "daemon.log",
        ).start()
        try:
            seen: list[tuple[dg.DagsterRunStatus, ...]] = []

            def both_ended() -> bool:
                statuses = tuple(instance.get_run_by_id(run_id).status for run_id in run_ids)
                seen.append(statuses)
                return all(instance.get_run_by_id(run_id).is_finished for run_id in run_ids)

            wait_for(both_ended, timeout=400, what="both retrain runs ended", every=0.2)
            said: list[str] = []
            assert follow(instance, run_ids[1], said.append, poll_seconds=0.1).value == "FAILURE"
        finally:
            daemon.stop()
        assert said == [f"retrain run {run_ids[1][:8]} FAILURE"], daemon.tail()

    running = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}
    one_waits = [s for s in seen if len(running & set(s)) == 1 and dg.DagsterRunStatus.QUEUED in s]
    assert not [s for s in seen if set(s) <= running], "two retrains ran at once"
    assert one_waits, f"never saw one retrain running while the other waited: {seen}"
    with dg.DagsterInstance.get() as instance:
        records = sorted(
            instance.get_run_records(dg.RunsFilter(run_ids=run_ids)), key=lambda record: record.start_time
        )
    first, second = records
    assert first.end_time is not None and second.start_time >= first.end_time  # the queue, not luck


def test_follow_prints_each_status_and_says_why_a_run_waits(platform_home: Path):
    queued = submit(get_settings())
    with dg.DagsterInstance.get() as instance:
        holder = instance.create_run_for_job(
            dg.GraphDefinition(name="busy").to_job(),
            tags={STAGE_TAG: TRAIN_STAGE},
            status=dg.DagsterRunStatus.STARTED,
        )
        said: list[str] = []
        ended = threading.Timer(1.0, lambda: instance.report_run_canceled(instance.get_run_by_id(queued)))
        ended.start()
        assert follow(instance, queued, said.append, poll_seconds=0.1) is dg.DagsterRunStatus.CANCELED
        ended.join()
    assert said == [
        f"retrain run {queued[:8]} QUEUED: waits for retrain run {holder.run_id[:8]} to end "
        "(one retrain at a time)",
        f"retrain run {queued[:8]} CANCELED",
    ]
