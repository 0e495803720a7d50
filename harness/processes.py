"""Real servers on loopback for the serving tests and benchmarks: an MLflow tracking server and the API.

Each runs in its own process group, started and stopped by id (a default MLflow server forks many
workers: `--workers 1` and no job execution keep it to a few processes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


SETTING_PREFIXES = ("CRIME_WEATHER_", "MLFLOW_", "DAGSTER_")


def clean_environment(prefixes: tuple[str, ...] = SETTING_PREFIXES) -> dict[str, str]:
    """os.environ without the platform's settings, so a child process sees only what we give it
    (nothing from the caller's shell, e.g. a DAGSTER_HOME or a tracking URI of the real platform)."""
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, ok: tuple[int, ...] = (200,)) -> httpx.Response:
    """The first response from `url` with a status in `ok`; TimeoutError when none came in time."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code in ok:
                return response
            last = response.status_code
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer {ok} within {timeout:.0f} s (last: {last!r})")


def default_signals() -> None:
    """A child as a user's shell starts it (pass as `preexec_fn`): SIGTERM and SIGINT at their
    defaults. An ignored signal is inherited across exec, and the test process may ignore SIGTERM:
    started in the background (SIGINT ignored), it does once an in-process Dagster run has restored
    its interrupt handlers (Dagster maps SIGTERM to SIGINT's handler). A child such as make would
    then ignore SIGTERM and never pass it on."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    """A child process group with its log in a file; `stop()` ends the group it started."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=ROOT,
                preexec_fn=default_signals,  # its SIGTERM in stop() must not be ignored
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=grace)
        self.process = None

    def tail(self, lines: int = 30) -> str:
        return log_tail(self.log, lines)


def log_tail(log: Path, lines: int) -> str:
    """The last lines of a log file, or nothing when it does not exist yet."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def mlflow_server(
    folder: Path,
    port: int,
    *,
    backend_uri: str | None = None,
    artifacts_destination: str | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """`mlflow server` on 127.0.0.1:port; by default a sqlite backend and artifacts under `folder`
    (the compose topology passes PostgreSQL and an s3:// destination)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        backend_uri or f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        artifacts_destination or str(folder / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {**(env or os.environ), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    return Server(command, env, folder / "mlflow-server.log")


def api_server(tracking_uri: str, port: int, log: Path, **settings: str) -> Server:
    """`python -m serving` on 127.0.0.1:port following the champion of `tracking_uri`."""
    env = clean_environment(("CRIME_WEATHER_", "MLFLOW_"))
    env.update(
        CRIME_WEATHER_HOME=str(log.parent),
        CRIME_WEATHER_MLFLOW_TRACKING_URI=tracking_uri,
        CRIME_WEATHER_API_HOST="127.0.0.1",
        CRIME_WEATHER_API_PORT=str(port),
        PYTHONUNBUFFERED="1",
        **{f"CRIME_WEATHER_{name.upper()}": value for name, value in settings.items()},
    )
    return Server([sys.executable, "-m", "serving"], env, log)
