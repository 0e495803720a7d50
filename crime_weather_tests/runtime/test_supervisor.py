"""make run's supervisor with real child processes: a service that exits unexpectedly is restarted
with backoff and the supervisor says so; one that keeps failing stops the platform; Ctrl-C stops it."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from crime_weather.runtime.supervisor import RestartPolicy, Service, pause, start_all, supervise

pytestmark = pytest.mark.timeout(120)

FAST = RestartPolicy(max_restarts=3, first_delay=0.2, max_delay=1.0, stable_seconds=30)


def python_service(name: str, code: str) -> Service:
    # ready_url on the discard port: never ready, which the supervisor only reports.
    return Service(name, [sys.executable, "-c", code], "http://127.0.0.1:9/", url="http://127.0.0.1:9")


def run(running: list[Service], logs: Path, stop_when, policy: RestartPolicy = FAST) -> int:
    """supervise() in a thread, stopped (as by Ctrl-C) once stop_when() holds; its exit status."""
    stopping = threading.Event()
    result: list[int] = []
    start_all(running, logs)
    thread = threading.Thread(
        target=lambda: result.append(supervise(running, logs, stopping, policy, tick=0.1))
    )
    thread.start()
    try:
        thread.join(timeout=0.2)
        while thread.is_alive() and not stop_when():
            thread.join(timeout=0.1)
        stopping.set()
        thread.join(timeout=30)
    finally:
        for service in running:
            service.stop(grace=5)
    return result[0]


def test_a_service_that_exits_is_restarted_with_backoff_and_it_says_so(tmp_path, caplog):
    runs = tmp_path / "runs"
    # Exits with 3 on its first two starts, then stays up.
    code = (
        "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); n = len(p.read_text()) if p.exists() else 0; "
        "p.write_text('x' * (n + 1)); sys.exit(3) if n < 2 else time.sleep(60)"
    )
    flaky = python_service("flaky", code)
    flaky.command.append(str(runs))
    steady = python_service("api", "import time; time.sleep(60)")
    caplog.set_level(logging.INFO, logger="crime_weather")
    status = run([flaky, steady], tmp_path, lambda: runs.exists() and runs.read_text() == "xxx")
    assert status == 0  # stopped on request, not because of the crashes
    assert runs.read_text() == "xxx"
    messages = [r.getMessage() for r in caplog.records]
    exits = [m for m in messages if m.startswith("flaky exited unexpectedly (code 3)")]
    assert len(exits) == 2
    assert "restarting it in 0.2 s (1 of at most 3 in a row)" in exits[0]
    assert "restarting it in 0.4 s (2 of at most 3 in a row)" in exits[1]  # doubled
    assert sum(m.startswith("restarted flaky") for m in messages) == 2
    assert not any(m.startswith("api exited") for m in messages), "the other service was left alone"


def test_a_service_that_keeps_failing_stops_the_platform(tmp_path, caplog):
    broken = python_service("broken", "import sys; sys.exit(7)")
    steady = python_service("api", "import time; time.sleep(60)")
    caplog.set_level(logging.INFO, logger="crime_weather")
    status = run([broken, steady], tmp_path, lambda: False)
    assert status == 1
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("broken exited unexpectedly (code 7)") for m in messages) == FAST.max_restarts
    assert any(m.startswith("broken keeps failing: 4 exits in a row") for m in messages)


def test_backoff_doubles_up_to_its_ceiling():
    policy = RestartPolicy(first_delay=1, max_delay=30)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_what_an_exited_service_left_behind_is_ended_before_its_restart(tmp_path):
    """A child of the service (dagster dev's webserver, say) would keep the port its restart needs."""
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, sys; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "open(sys.argv[1], 'a').write(f'{child.pid}\\n'); sys.exit(5)"
    )
    leaky = python_service("leaky", code)
    leaky.command.append(str(pids))
    steady = python_service("api", "import time; time.sleep(60)")
    run([leaky, steady], tmp_path, lambda: pids.exists() and len(pids.read_text().split()) >= 2)
    first = int(pids.read_text().split()[0])
    assert not Path(f"/proc/{first}").exists() or "Z" in Path(f"/proc/{first}/stat").read_text().split()[2]


def test_acquisition_runs_in_the_background_and_logs_to_its_file(tmp_path, home):
    from crime_weather.core.settings import Settings
    from crime_weather.runtime.environment import prepare_home
    from crime_weather.runtime.supervisor import start_acquisition

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.csv").write_bytes(b"a,b\n1,2\n")
    settings = Settings(home=home, source=str(mirror))
    prepare_home(settings)
    start_acquisition(settings).join(timeout=60)
    assert (Path(settings.landing) / "a.csv").read_bytes() == b"a,b\n1,2\n"
    lines = (settings.logs / "acquisition.log").read_text().splitlines()
    assert any(line.endswith("acquisition: 1 fetched, 0 already in landing") for line in lines), lines
    assert len(lines) == len(set(lines)), "each line once"


class _NeverWaited(threading.Event):
    """A stop event that fails the test if the supervising thread ever blocks on it."""

    def wait(self, timeout: float | None = None) -> bool:
        raise AssertionError("Event.wait holds the lock a signal handler's Event.set needs")


def test_the_supervisor_reads_its_stop_event_without_ever_waiting_on_it(tmp_path):
    """SIGTERM's handler sets the event in the supervising (main) thread between two bytecodes; had
    that thread been inside Event.wait, holding the event's lock, set() would deadlock it. The loop
    only reads the flag and sleeps; it stops within a tick."""
    api = python_service("api", "import time; time.sleep(60)")
    start_all([api], tmp_path)
    stopping, result = _NeverWaited(), []
    thread = threading.Thread(
        target=lambda: result.append(supervise([api], tmp_path, stopping, FAST, tick=0.05))
    )
    try:
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # supervising, not failed
        stopping.set()
        thread.join(timeout=5)
    finally:
        api.stop(grace=5)
    assert not thread.is_alive() and result == [0]


def test_a_pause_ends_early_once_stopping_is_set_and_otherwise_lasts_its_time():
    stopping = threading.Event()
    started = time.monotonic()
    pause(stopping, 0.3)
    assert 0.3 <= time.monotonic() - started < 1.0
    threading.Timer(0.1, stopping.set).start()
    started = time.monotonic()
    pause(stopping, 10)
    assert time.monotonic() - started < 1.0
