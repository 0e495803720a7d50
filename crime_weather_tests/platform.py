"""The whole platform as real processes in a temp home: MLflow server, Dagster daemon and webserver,
the API. For end-to-end and fault tests: drop files, kill and restart processes, watch what happens.

Fast settings by default (sensors every few seconds, a tiny search); the same dagster.yaml and
workspace.yaml as `make run` unless a test passes others. The compose topology (test_topology.py)
passes its own: a gRPC code server the workspace points at, MLflow started by docker/mlflow-server.sh
with its own environment, and an API that sees only what compose gives it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from harness.processes import (
    BIN,
    ROOT,
    Server,
    clean_environment,
    free_port,
    mlflow_server,
    wait_http,
)

T = TypeVar("T")

FAST = {
    "CRIME_WEATHER_LANDING_POLL_SECONDS": "2",
    "CRIME_WEATHER_AUTOMATION_SECONDS": "5",
    "CRIME_WEATHER_SEARCH_TRIALS": "2",
    "CRIME_WEATHER_SEARCH_FOLDS": "1",
    "CRIME_WEATHER_BACKTEST_FOLDS": "2",
    "CRIME_WEATHER_CALIBRATION_ORIGINS": "2",
    "CRIME_WEATHER_TEST_MONTHS": "2",
    "CRIME_WEATHER_API_POLL_SECONDS": "1",
    "CRIME_WEATHER_SOURCE": "none",
    "CRIME_WEATHER_FORECAST_SOURCE": "none",
}


def _without_aws(env: dict[str, str]) -> dict[str, str]:
    """`env` less the AWS credentials a test may have put there (moto's fixture does)."""
    return {name: value for name, value in env.items() if not name.startswith("AWS_")}


def wait_for(check: Callable[[], T], timeout: float, what: str, every: float = 1.0) -> T:
    """The first truthy value of `check()`; TimeoutError naming `what` (and the last error) otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = value
        except Exception as error:  # a server still starting, a table not created yet
            last = error
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


@contextlib.contextmanager
def environment(values: dict[str, str], *, without: tuple[str, ...] = ()) -> Iterator[None]:
    """os.environ with `values` set, and the variables whose names start with `without` removed,
    for the block; restored as it was afterwards."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if without and name.startswith(without)]:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def processes_with_env(name: str, value: str) -> list[int]:
    """Every live process whose environment has `name=value` (children inherit it: a test's marker)."""
    marker = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return found


def kill_processes_with_env(name: str, value: str) -> list[int]:
    """SIGKILL whatever still carries the marker; the pids it killed (a test's last resort)."""
    killed = []
    for pid in processes_with_env(name, value):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


class Platform:
    """Start with `start()`, stop with `stop()`; each process can be killed and restarted alone."""

    def __init__(
        self,
        home: Path,
        *,
        env: dict[str, str] | None = None,
        dagster_yaml: Path = ROOT / "dagster.yaml",
        workspace: Path = ROOT / "workspace.yaml",
        mlflow_backend_uri: str | None = None,
        mlflow_artifacts: str | None = None,
        code_server_port: int | None = None,
        mlflow_script: Path | None = None,
        mlflow_env: dict[str, str] | None = None,
        api_env: dict[str, str] | None = None,
    ) -> None:
        """`code_server_port`: also run `dagster code-server start` there (the workspace must point at
        it), as compose's code-location service does; the daemon and webserver start once it is healthy.
        `mlflow_script`: start MLflow with this script (docker/mlflow-server.sh) and `mlflow_env`
        (compose's mlflow service) instead of `mlflow server`; it listens on MLFLOW_LISTEN_HOST/PORT.
        `api_env`: the API's settings instead of the platform's (compose gives it no S3 or Dagster).
        """
        self.home = home
        self.landing = home / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.dagster_home = home / "dagster"
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dagster_yaml, self.dagster_home / "dagster.yaml")
        self.mlflow_port, self.api_port, self.web_port = free_port(), free_port(), free_port()
        self.tracking_uri = f"http://127.0.0.1:{self.mlflow_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        base = clean_environment()
        self.env = {
            **base,
            **FAST,
            "CRIME_WEATHER_HOME": str(home),
            "DAGSTER_HOME": str(self.dagster_home),
            "CRIME_WEATHER_MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        logs = home / "logs"
        if mlflow_script is None:
            self.mlflow = mlflow_server(
                home / "mlflow",
                self.mlflow_port,
                backend_uri=mlflow_backend_uri,
                artifacts_destination=mlflow_artifacts,
                env=self.env,
            )
        else:
            hosts = f"127.0.0.1:{self.mlflow_port},localhost:{self.mlflow_port}"
            script_env = {
                **_without_aws(base),
                "PATH": f"{BIN}{os.pathsep}{base.get('PATH', os.defpath)}",  # its python and mlflow
                "MLFLOW_SERVER_ALLOWED_HOSTS": hosts,
                "PYTHONUNBUFFERED": "1",
                **(mlflow_env or {}),
                "MLFLOW_LISTEN_HOST": "127.0.0.1",
                "MLFLOW_LISTEN_PORT": str(self.mlflow_port),
            }
            self.mlflow = Server(["sh", str(mlflow_script)], script_env, logs / "mlflow.log")
        self.code_server_port = code_server_port
        self.code_server = (
            Server(
                [
                    str(BIN / "dagster"),
                    "code-server",
                    "start",
                    "-m",
                    "crime_weather.definitions",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(code_server_port),
                    "--location-name",
                    "crime_weather",
                ],
                self.env,
                logs / "code-server.log",
            )
            if code_server_port is not None
            else None
        )
        self.daemon = Server(
            [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], self.env, logs / "daemon.log"
        )
        self.webserver = Server(
            [
                str(BIN / "dagster-webserver"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.web_port),
                "-w",
                str(workspace),
            ],
            self.env,
            logs / "webserver.log",
        )
        own_api_env = {
            **_without_aws(base),
            **FAST,
            "CRIME_WEATHER_MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            **(api_env or {}),
        }
        api_env = {
            **(self.env if api_env is None else own_api_env),
            "PYTHONUNBUFFERED": "1",
            "CRIME_WEATHER_API_HOST": "127.0.0.1",
            "CRIME_WEATHER_API_PORT": str(self.api_port),
        }
        self.api = Server([str(BIN / "python"), "-m", "serving"], api_env, logs / "api.log")

    # --- processes ------------------------------------------------------------------------------
    def start(self, *, webserver: bool = False, api: bool = True) -> Platform:
        self.start_mlflow()
        if self.code_server is not None:
            self.start_code_server()
        self.daemon.start()
        if webserver:
            self.start_webserver()
        if api:
            self.api.start()
        return self

    def start_mlflow(self) -> None:
        self.mlflow.start()
        wait_http(f"{self.tracking_uri}/health", timeout=90)

    def start_code_server(self, timeout: float = 180) -> None:
        """Start the gRPC code server and wait until it answers a health check (compose's healthcheck)."""
        assert self.code_server is not None, "this platform has no code server (code_server_port)"
        self.code_server.start()
        command = [str(BIN / "dagster"), "api", "grpc-health-check", "-h", "127.0.0.1"]
        command += ["-p", str(self.code_server_port)]

        def healthy() -> bool:
            if not self.code_server.running():
                raise RuntimeError(f"the code server exited:\n{self.code_server.tail()}")
            return subprocess.run(command, env=self.env, capture_output=True, timeout=60).returncode == 0

        wait_for(healthy, timeout=timeout, what="the gRPC code server healthy", every=2)

    def start_webserver(self) -> None:
        self.webserver.start()
        wait_http(f"http://127.0.0.1:{self.web_port}/server_info", timeout=120)

    def stop(self) -> None:
        for server in (self.api, self.webserver, self.daemon, self.code_server, self.mlflow):
            if server is not None:
                server.stop()

    def logs(self) -> str:
        """The end of every log: what a failing test prints."""
        return "\n".join(
            f"--- {name} ---\n{server.tail(40)}"
            for name, server in (
                ("daemon", self.daemon),
                ("code server", self.code_server),
                ("webserver", self.webserver),
                ("api", self.api),
                ("mlflow", self.mlflow),
            )
            if server is not None
        )

    # --- what the platform did --------------------------------------------------------------------
    def instance(self):
        """A handle on the same Dagster instance the daemon uses.

        The platform's settings are in the environment while it is built: a dagster.yaml may read
        them ({env: DAGSTER_POSTGRES_HOST} and the like, as compose's does).
        """
        import dagster as dg

        overlay = {
            name: value
            for name, value in self.env.items()
            if name.startswith(("DAGSTER_", "AWS_", "CRIME_WEATHER_"))
        }
        with environment(overlay):
            instance = dg.DagsterInstance.get()
            # Parts built on first use read the environment then: build them now.
            for part in ("run_launcher", "run_coordinator", "compute_log_manager"):
                getattr(instance, part)
            return instance

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"http://127.0.0.1:{self.web_port}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    def champion(self) -> dict[str, Any] | None:
        """What the API serves (GET /model), or None while it has no champion."""
        response = httpx.get(f"{self.api_url}/model", timeout=5)
        return response.json() if response.status_code == 200 else None

    def predict(self, observation: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.api_url}/predict", json=observation, timeout=10)
