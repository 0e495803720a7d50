"""The whole platform as real processes in a temp home: MLflow server, Dagster daemon and webserver,
the API. For end-to-end and fault tests: drop files, kill and restart processes, watch what happens.

Fast settings by default (sensors every few seconds, a tiny search); the same dagster.yaml and
workspace.yaml as `make run` unless a test passes others (the compose topology does).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from crime_weather_tests.processes import BIN, ROOT, Server, free_port, mlflow_server, wait_http

T = TypeVar("T")

FAST = {
    "CRIME_WEATHER_LANDING_POLL_SECONDS": "2",
    "CRIME_WEATHER_AUTOMATION_SECONDS": "5",
    "CRIME_WEATHER_SEARCH_TRIALS": "2",
    "CRIME_WEATHER_CV_SPLITS": "2",
    "CRIME_WEATHER_TEST_MONTHS": "2",
    "CRIME_WEATHER_API_POLL_SECONDS": "1",
    "CRIME_WEATHER_SOURCE": "none",
}


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
    ) -> None:
        self.home = home
        self.landing = home / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.dagster_home = home / "dagster"
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dagster_yaml, self.dagster_home / "dagster.yaml")
        self.mlflow_port, self.api_port, self.web_port = free_port(), free_port(), free_port()
        self.tracking_uri = f"http://127.0.0.1:{self.mlflow_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("CRIME_WEATHER_", "MLFLOW_", "DAGSTER_"))
        }
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
        self.mlflow = mlflow_server(
            home / "mlflow",
            self.mlflow_port,
            backend_uri=mlflow_backend_uri,
            artifacts_destination=mlflow_artifacts,
            env=self.env,
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
        api_env = {
            **self.env,
            "CRIME_WEATHER_API_HOST": "127.0.0.1",
            "CRIME_WEATHER_API_PORT": str(self.api_port),
        }
        self.api = Server([str(BIN / "python"), "-m", "serving"], api_env, logs / "api.log")

    # --- processes ------------------------------------------------------------------------------
    def start(self, *, webserver: bool = False, api: bool = True) -> Platform:
        self.start_mlflow()
        self.daemon.start()
        if webserver:
            self.start_webserver()
        if api:
            self.api.start()
        return self

    def start_mlflow(self) -> None:
        self.mlflow.start()
        wait_http(f"{self.tracking_uri}/health", timeout=90)

    def start_webserver(self) -> None:
        self.webserver.start()
        wait_http(f"http://127.0.0.1:{self.web_port}/server_info", timeout=120)

    def stop(self) -> None:
        for server in (self.api, self.webserver, self.daemon, self.mlflow):
            server.stop()

    def logs(self) -> str:
        """The end of every log: what a failing test prints."""
        return "\n".join(
            f"--- {name} ---\n{server.tail(40)}"
            for name, server in (
                ("daemon", self.daemon),
                ("webserver", self.webserver),
                ("api", self.api),
                ("mlflow", self.mlflow),
            )
        )

    # --- what the platform did --------------------------------------------------------------------
    def instance(self):
        """A handle on the same Dagster instance the daemon uses."""
        import dagster as dg

        previous = os.environ.get("DAGSTER_HOME")
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        try:
            return dg.DagsterInstance.get()
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = previous

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
