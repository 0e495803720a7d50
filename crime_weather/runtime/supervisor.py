"""`make run`: the whole platform on one machine, in the foreground.

Fetches new source files into the landing zone, then starts each service in its own process group
and stops every one of them (and their children) on Ctrl-C or SIGTERM. No Dagster import here:
this is a supervisor, not a code location.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crime_weather.core.settings import Settings, get_settings
from crime_weather.core.storage import LocalStore, open_store
from crime_weather.sources.acquisition import acquire, source_files

ROOT = Path(__file__).resolve().parent.parent
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

    def start(self, logs: Path) -> None:
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


def prepare_home(settings: Settings) -> dict[str, str]:
    """Create the embedded state folders and return the environment every service shares."""
    home = settings.home.resolve()
    dagster_home = home / "dagster"
    for folder in (
        home / "landing",
        home / "warehouse",
        home / "mlflow" / "artifacts",
        dagster_home,
        home / "logs",
    ):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    return {
        "CRIME_WEATHER_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "CRIME_WEATHER_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri or "http://127.0.0.1:5001",
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri or "http://127.0.0.1:5001",
        "PYTHONUNBUFFERED": "1",
    }


def services(settings: Settings, env: dict[str, str]) -> list[Service]:
    home = settings.home.resolve()
    return [
        Service(
            "mlflow",
            [
                str(BIN / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{home / 'mlflow' / 'mlflow.db'}",
                "--artifacts-destination",
                str(home / "mlflow" / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                "5001",
                "--workers",
                "1",
            ],
            "http://127.0.0.1:5001/health",
            {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            url="http://127.0.0.1:5001",
        ),
        Service(
            "dagster",
            [
                str(BIN / "dagster"),
                "dev",
                "-w",
                str(ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                "3000",
            ],
            "http://127.0.0.1:3000/server_info",
            env,
            url="http://127.0.0.1:3000",
        ),
        Service(
            "api",
            [str(BIN / "python"), "-m", "serving"],
            f"http://{settings.api_host}:{settings.api_port}/health",
            env,
            url=f"http://{settings.api_host}:{settings.api_port}",
        ),
    ]


def champion_version(api: Service) -> str | None:
    """The version the API serves, or None while it has no champion."""
    try:
        response = httpx.get(api.url + "/model", timeout=2)
    except httpx.HTTPError:
        return None
    return str(response.json().get("version")) if response.status_code == 200 else None


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = get_settings()
    env = prepare_home(settings)
    os.environ.update(env)
    landing = open_store(settings.landing, settings.s3_endpoint_url)
    if isinstance(landing, LocalStore):
        landing.root.mkdir(parents=True, exist_ok=True)
    log.info("acquisition from %s into %s ...", settings.source, settings.landing)
    try:
        log.info("acquisition: %s", acquire(source_files(settings), landing).summary())
    except OSError as error:  # an unreachable source must not stop the platform
        log.warning("acquisition failed: %s", error)

    running = services(settings, env)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logs = settings.home.resolve() / "logs"
    try:
        for service in running:
            service.start(logs)
            log.info(
                "started %s (pid %d), log in %s",
                service.name,
                service.process.pid,
                logs / f"{service.name}.log",
            )
        pending = list(running)
        api = next(service for service in running if service.name == "api")
        served: str | None = None
        while not stopping:
            for service in list(pending):
                if service.is_ready():
                    pending.remove(service)
                    log.info("%s ready at %s", service.name, service.url)
            if not pending and (version := champion_version(api)) != served:
                served = version
                if version:
                    log.info(
                        "champion v%s served: POST %s/predict (docs: %s/schema/swagger)",
                        version,
                        api.url,
                        api.url,
                    )
            crashed = [s for s in running if s.process.poll() is not None]
            if crashed:
                log.error("%s exited (code %s): stopping", crashed[0].name, crashed[0].process.returncode)
                return 1
            time.sleep(1)
        return 0
    finally:
        log.info("stopping %s", ", ".join(s.name for s in running))
        for service in reversed(running):
            service.stop()
        log.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
