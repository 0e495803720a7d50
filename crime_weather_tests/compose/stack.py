"""One compose project of the real docker-compose.yml (plus the test override), and its public faces.

Everything it creates carries its own project name, network name and ports, so it never meets a
stack of the user's nor another test's; `remove()` takes away every container, network and volume
of it, run containers included (DockerRunLauncher does not label them as the project's).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.processes import ROOT, free_port

COMPOSE_FILE = ROOT / "docker-compose.yml"
OVERRIDE = Path(__file__).resolve().parent / "override.yml"
ENV_EXAMPLE = ROOT / ".env.example"
# What a run container looks like from outside: DockerRunLauncher's label.
RUN_LABEL = "dagster/run_id"
# The project name images are built under (each test's stack has a project name of its own).
BUILD_PROJECT = "crime-weather-compose-test"


def env_file_values(run_memory_limit: str) -> dict[str, str]:
    """.env.example with every placeholder replaced (S3 key ids: letters and digits) and free ports."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    for name, value in values.items():
        if value.startswith("change-me"):
            values[name] = (
                f"k{secrets.token_hex(10)}" if name.endswith("_ACCESS_KEY") else secrets.token_hex(16)
            )
    values.update(
        # No internet here: the test brings the files itself, the forecast's too.
        CRIME_WEATHER_SOURCE="none",
        CRIME_WEATHER_FORECAST_SOURCE="none",
        CRIME_WEATHER_RUN_MEMORY_LIMIT=run_memory_limit,
        # A small search and backtest: the retrain's speed is not what this test is about.
        CRIME_WEATHER_SEARCH_TRIALS="4",
        CRIME_WEATHER_SEARCH_TIMEOUT_SECONDS="20",
        CRIME_WEATHER_SEARCH_FOLDS="2",
        CRIME_WEATHER_BACKTEST_FOLDS="3",
        CRIME_WEATHER_CALIBRATION_ORIGINS="3",
        CRIME_WEATHER_DAGSTER_HOST_PORT=str(free_port()),
        CRIME_WEATHER_MLFLOW_HOST_PORT=str(free_port()),
        CRIME_WEATHER_API_HOST_PORT=str(free_port()),
        CRIME_WEATHER_IMAGE_TAG="compose-test",
        CRIME_WEATHER_GIT_COMMIT="compose-test",
    )
    return values


@dataclass
class Stack:
    compose: list[str]  # the Compose v2 command
    folder: Path  # the test's own folder: the env file, logs
    test_env: dict[str, str]  # the override's variables (base image, build contexts)
    run_memory_limit: str = "3g"
    project: str = field(default_factory=lambda: f"cwtest{secrets.token_hex(4)}")
    values: dict[str, str] = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for the report

    def __post_init__(self) -> None:
        self.values = env_file_values(self.run_memory_limit)
        self.values["CRIME_WEATHER_NETWORK"] = f"{self.project}_net"
        self.env_file = self.folder / "stack.env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.values.items()), encoding="utf-8")

    # --- compose -----------------------------------------------------------------------------------

    def process_env(self, **overrides: str) -> dict[str, str]:
        """What compose sees from the 'shell': nothing of the caller's settings, only the test's."""
        keep = ("PATH", "HOME", "LANG", "DOCKER_HOST", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "TMPDIR")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        return {**env, **self.test_env, **overrides}

    def run(
        self,
        *args: str,
        timeout: float = 600,
        check: bool = True,
        env: dict[str, str] | None = None,
        project: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = [
            *self.compose,
            "--project-name", project or self.project,
            "--project-directory", str(ROOT),
            "--env-file", str(self.env_file),
            "--file", str(COMPOSE_FILE),
            "--file", str(OVERRIDE),
            "--profile", "all",
            *args,
        ]  # fmt: skip
        result = subprocess.run(
            command, env=env or self.process_env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def config(self) -> dict[str, Any]:
        return yaml.safe_load(self.run("config").stdout)

    def build(self) -> float:
        """Build each image once (compose would build the shared Dagster image once per service),
        under a fixed project name: compose labels images with it, so an unchanged image keeps its
        id from one run to the next instead of leaving the previous one dangling."""
        started = time.monotonic()
        by_image: dict[str, str] = {}
        for name, service in self.config()["services"].items():
            if service.get("build"):
                by_image.setdefault(service["image"], name)
        self.run("build", *sorted(by_image.values()), timeout=1800, project=BUILD_PROJECT)
        return time.monotonic() - started

    def container(self, service: str) -> dict[str, Any]:
        """`docker inspect` of the service's container."""
        ids = self.run("ps", "--all", "--quiet", service).stdout.split()
        assert len(ids) == 1, f"{service}: containers {ids}"
        return inspect(ids[0])

    def health(self, service: str) -> str:
        state = self.container(service)["State"]
        return (state.get("Health") or {}).get("Status") or state["Status"]

    def wait_healthy(self, *services: str, timeout: float = 600) -> None:
        wait_for(
            lambda: all(self.health(service) == "healthy" for service in services),
            timeout,
            f"{', '.join(services)} healthy",
            lambda: {service: self.health(service) for service in services},
        )

    def logs(self, tail: int = 60) -> str:
        """The end of every service's log; the whole of them goes to the test's folder."""
        whole = self.run("logs", "--no-color", "--timestamps", check=False, timeout=300).stdout
        (self.folder / "compose.log").write_text(whole, encoding="utf-8")
        recent = self.run("logs", "--no-color", "--tail", str(tail), check=False, timeout=120).stdout
        return f"{recent}\n(every log: {self.folder / 'compose.log'})"

    def mark(self, phase: str, since: float) -> None:
        """Record how long a phase took, and say so as it happens."""
        self.timings[phase] = round(time.monotonic() - since, 1)
        print(f"compose test: {phase} after {self.timings[phase]} s", flush=True)

    # --- the public faces: Dagster GraphQL, MLflow REST, the API -------------------------------------

    def url(self, what: str) -> str:
        port = self.values[f"CRIME_WEATHER_{what.upper()}_HOST_PORT"]
        return f"http://127.0.0.1:{port}"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url('dagster')}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(body["errors"])
        return body["data"]

    def runs(self) -> list[dict[str, Any]]:
        data = self.graphql(
            """{ runsOrError(limit: 500) { ... on Runs { results {
                   runId status jobName tags { key value } } } } }"""
        )
        return data["runsOrError"]["results"]

    def sensor_cursor(self, sensor: str) -> str | None:
        data = self.graphql(
            """query ($sensor: String!) { sensorOrError(sensorSelector: {repositoryName: "__repository__",
                   repositoryLocationName: "crime_weather", sensorName: $sensor}) { ... on Sensor {
                   sensorState { typeSpecificData { ... on SensorData { lastCursor } } } } } }""",
            {"sensor": sensor},
        )
        return data["sensorOrError"]["sensorState"]["typeSpecificData"]["lastCursor"]

    def runs_settled(self) -> bool:
        """Every run finished and every run container exited (Dagster marks a run SUCCESS a moment
        before its process exits)."""
        return not any(c["State"]["Running"] for c in self.run_containers()) and all(
            run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in self.runs()
        )

    def partitions(self, asset: str) -> dict[str, Any]:
        data = self.graphql(
            """query ($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
                   partitionKeys
                   assetPartitionStatuses { ... on DefaultPartitionStatuses {
                       materializedPartitions failedPartitions materializingPartitions } } } } }""",
            {"path": [asset]},
        )
        return data["assetNodeOrError"]

    def champion_version(self) -> str | None:
        """The registry's champion (MLflow REST), through the published port with its Host header."""
        response = httpx.get(
            f"{self.url('mlflow')}/api/2.0/mlflow/registered-models/alias",
            params={"name": self.values["CRIME_WEATHER_REGISTERED_MODEL"], "alias": "champion"},
            headers={"Host": f"localhost:{self.values['CRIME_WEATHER_MLFLOW_HOST_PORT']}"},
            timeout=30,
        )
        if response.status_code in (400, 404) and "not found" in response.text:
            return None  # no such model (404) or alias (400) yet
        response.raise_for_status()
        return str(response.json()["model_version"]["version"])

    def predict(self) -> httpx.Response:
        observation = {"date": "2020-03-02", "comuna": 3, "temp_mean": 24.5, "precipitation_mm": 0}
        return httpx.post(f"{self.url('api')}/predict", json=observation, timeout=30)

    def forecast(self) -> httpx.Response:
        return httpx.get(f"{self.url('api')}/forecast", timeout=30)

    # --- run containers and clean-up -----------------------------------------------------------------

    def run_containers(self) -> list[dict[str, Any]]:
        """Every container DockerRunLauncher started on this stack's network."""
        ids = docker(
            "ps", "--all", "--quiet", "--filter", f"label={RUN_LABEL}",
            "--filter", f"network={self.values['CRIME_WEATHER_NETWORK']}",
        ).split()  # fmt: skip
        return [inspect(container) for container in ids]

    def leftovers(self) -> dict[str, list[str]]:
        """What of this stack still exists on the engine."""
        label = f"label=com.docker.compose.project={self.project}"
        network = self.values["CRIME_WEATHER_NETWORK"]
        return {
            "containers": docker("ps", "--all", "--quiet", "--filter", label).split()
            + [c["Id"] for c in self.run_containers()],
            "volumes": docker("volume", "ls", "--quiet", "--filter", label).split(),
            "networks": [n for n in docker("network", "ls", "--format", "{{.Name}}").split() if n == network],
        }

    def remove(self) -> None:
        """Every container (run containers first: they hold the network), network and volume."""
        containers = [c["Id"] for c in self.run_containers()]
        if containers:
            docker("rm", "--force", *containers)
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "30", check=False, timeout=600)
        # Images a rebuild replaced (the tagged ones stay: the next run's cache).
        docker("image", "prune", "--force", "--filter", f"label=com.docker.compose.project={BUILD_PROJECT}")


def docker(*args: str, timeout: float = 300) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {result.stderr}")
    return result.stdout


def inspect(container: str) -> dict[str, Any]:
    return json.loads(docker("inspect", container))[0]


def wait_for(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    state: Callable[[], Any] | None = None,
    every: float = 2,
) -> Any:
    """The first truthy value of `condition()`; an AssertionError naming `what` (and `state()`) if none."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} after {timeout:.0f} s" + (f": {state()}" if state else ""))
        time.sleep(every)
