"""`make run`: the whole platform on one machine, in the foreground.

Starts each service in its own process group first, then fetches new source files into the landing
zone in the background (per-file progress and retries, in the terminal and logs/acquisition.log;
landing_sensor picks each file up as it lands). A service that exits unexpectedly is restarted with
backoff, and the supervisor says so; it stops everything (and their children) on Ctrl-C or SIGTERM,
or when a service keeps failing. No Dagster import here: this is a supervisor, not a code location.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crime_weather.core.settings import Settings, get_settings
from crime_weather.core.storage import open_store
from crime_weather.runtime.environment import ROOT, platform_environment, prepare_home
from crime_weather.sources.acquisition import acquire, source_files
from serving.settings import ApiSettings

BIN = Path(sys.executable).parent
log = logging.getLogger("crime_weather")


@dataclass
class Service:
    name: str
    command: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    url: str = ""
    started_at: float = 0.0
    failures: int = 0  # unexpected exits in a row, each soon after its start
    restart_at: float | None = None  # when a restart is due

    def start(self, logs: Path) -> None:
        self.started_at = time.monotonic()
        out = open(logs / f"{self.name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: one signal reaches all its children
        )

    def is_ready(self) -> bool:
        """Answering at all: the API answers 503 on /health until a champion exists."""
        try:
            httpx.get(self.ready_url, timeout=2)
        except httpx.HTTPError:
            return False
        return True

    def stop(self, grace: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s: killing it", self.name, grace)
        except ProcessLookupError:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # whatever the leader left behind


def services(settings: Settings, env: dict[str, str]) -> list[Service]:
    """MLflow over the embedded store, Dagster (webserver and daemon) and the API, on loopback."""
    api = ApiSettings()
    mlflow = [
        *(str(BIN / "mlflow"), "server", "--backend-store-uri", settings.mlflow_backend_uri),
        *("--artifacts-destination", str(settings.mlflow_artifacts), "--workers", "1"),
        *("--host", "127.0.0.1", "--port", str(settings.mlflow_port)),
    ]
    dagster = [str(BIN / "dagster"), "dev", "-w", str(ROOT / "workspace.yaml")]
    dagster += ["-h", "127.0.0.1", "-p", str(settings.dagster_port)]
    return [
        Service(
            "mlflow",
            mlflow,
            f"{settings.mlflow_server_url}/health",
            {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            url=settings.mlflow_server_url,
        ),
        Service("dagster", dagster, f"{settings.dagster_url}/server_info", env, url=settings.dagster_url),
        Service(
            "api",
            [str(BIN / "python"), "-m", "serving"],
            f"{api.url}/health",
            env,
            url=api.url,
        ),
    ]


def champion_version(api: Service) -> str | None:
    """The version the API serves, or None while it has no champion."""
    try:
        response = httpx.get(api.url + "/model", timeout=2)
    except httpx.HTTPError:
        return None
    return str(response.json().get("version")) if response.status_code == 200 else None


ACQUISITION_LOG = logging.getLogger("crime_weather.acquisition")


def acquire_sources(settings: Settings) -> None:
    """Bring new source files into the landing zone; an unreachable source does not stop the platform."""
    landing = open_store(settings.landing, settings.s3_endpoint_url)
    ACQUISITION_LOG.info(
        "acquisition from %s into %s, in the background ...", settings.source, settings.landing
    )
    try:
        report = acquire(source_files(settings), landing)
    except OSError as error:
        ACQUISITION_LOG.warning("acquisition failed: %s", error)
        return
    level = logging.WARNING if report.failed else logging.INFO
    ACQUISITION_LOG.log(level, "acquisition: %s", report.summary())


def start_acquisition(settings: Settings) -> threading.Thread:
    """acquire_sources in a thread; its progress goes to the terminal and to logs/acquisition.log."""
    handler = logging.FileHandler(settings.logs / "acquisition.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    ACQUISITION_LOG.addHandler(handler)
    ACQUISITION_LOG.setLevel(logging.INFO)  # progress is INFO: the log file gets it whatever the root's level

    def run() -> None:
        try:
            acquire_sources(settings)
        finally:
            ACQUISITION_LOG.removeHandler(handler)
            handler.close()

    thread = threading.Thread(target=run, name="acquisition", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class RestartPolicy:
    """A service that exits unexpectedly is started again after first_delay, doubling up to
    max_delay while it keeps exiting within stable_seconds of its start; past max_restarts such
    exits in a row, it keeps failing and the platform stops."""

    max_restarts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_seconds: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


class Watch:
    """What the supervisor reports while the platform runs: readiness, then each new champion."""

    def __init__(self, running: list[Service]) -> None:
        self.pending = list(running)
        self.api = next(service for service in running if service.name == "api")
        self.served: str | None = None

    def look(self) -> None:
        for service in list(self.pending):
            if service.is_ready():
                self.pending.remove(service)
                log.info("%s ready at %s", service.name, service.url)
        if self.pending or (version := champion_version(self.api)) == self.served:
            return
        self.served = version
        if version:
            url = self.api.url
            log.info("champion v%s served: POST %s/predict (docs: %s/schema/swagger)", version, url, url)


def start_all(running: list[Service], logs: Path) -> None:
    for service in running:
        service.start(logs)
        log.info(
            "started %s (pid %d), log in %s", service.name, service.process.pid, logs / f"{service.name}.log"
        )


def check_exits(running: list[Service], watch: Watch, logs: Path, policy: RestartPolicy) -> bool:
    """Restart what is due, schedule a restart for what exited; False when a service keeps failing."""
    now = time.monotonic()
    for service in running:
        if service.restart_at is not None:
            if now >= service.restart_at:
                service.restart_at = None
                service.start(logs)
                if service not in watch.pending:
                    watch.pending.append(service)
                log.warning("restarted %s (pid %d)", service.name, service.process.pid)
            continue
        code = service.process.poll()
        if code is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.process.pid, signal.SIGKILL)  # what it left behind would hold its port
        ran = now - service.started_at
        service.failures = 1 if ran >= policy.stable_seconds else service.failures + 1
        if service.failures > policy.max_restarts:
            log.error(
                "%s keeps failing: %d exits in a row, each within %.0f s of its start (last code %s); "
                "stopping the platform, see %s",
                *(service.name, service.failures, policy.stable_seconds, code, logs / f"{service.name}.log"),
            )
            return False
        delay = policy.delay(service.failures)
        service.restart_at = now + delay
        log.warning(
            "%s exited unexpectedly (code %s) after %.0f s: restarting it in %.1f s (%d of at most %d in a row)",
            *(service.name, code, ran, delay, service.failures, policy.max_restarts),
        )
    return True


def supervise(
    running: list[Service],
    logs: Path,
    stopping: threading.Event,
    policy: RestartPolicy = RestartPolicy(),
    tick: float = 1.0,
) -> int:
    """Report and restart until asked to stop (0) or until a service keeps failing (1)."""
    watch = Watch(running)
    while not stopping.is_set():
        watch.look()
        if not check_exits(running, watch, logs, policy):
            return 1
        pause(stopping, tick)
    return 0


def pause(stopping: threading.Event, seconds: float, step: float = 0.1) -> None:
    """Sleep up to `seconds`, back within `step` of `stopping` being set.

    Never `stopping.wait()`: the SIGTERM/SIGINT handler sets the event in this same (main) thread,
    between any two bytecodes, and `Event.set` takes the lock `Event.wait` holds while it checks the
    flag: a signal landing there would deadlock the supervisor. `is_set` takes no lock, and
    `time.sleep` lets the handler run at once.
    """
    deadline = time.monotonic() + seconds
    while not stopping.is_set() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, step))


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = get_settings()
    prepare_home(settings)
    env = platform_environment(settings)
    os.environ.update(env)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    running = services(settings, env)
    try:
        start_all(running, settings.logs)
        start_acquisition(settings)
        return supervise(running, settings.logs, stopping)
    finally:
        log.info("stopping %s", ", ".join(s.name for s in running))
        for service in reversed(running):
            service.stop()
        log.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
