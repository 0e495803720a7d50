"""The compose S3 server (SeaweedFS, the same release as the image) as a process on loopback.

Started as compose starts it (`weed server` with the flags of docker-compose.yml's `s3` service,
the root key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), every port a free loopback one.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from crime_weather_tests.compose import tools
from harness.processes import ROOT, Server, free_port, wait_http


def compose_flags() -> list[str]:
    """The `s3` service's command in docker-compose.yml, less the subcommand and its addresses."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["s3"]["command"]
    assert command[0] == "server"
    return [flag for flag in command[1:] if not flag.startswith(("-ip", "-s3.port=", "-s3.ip.bind"))]


class SeaweedFS:
    """`start()` runs the server in `folder`; `stop()` ends it. `url` is its S3 endpoint."""

    def __init__(self, folder: Path, root_key: tuple[str, str]) -> None:
        self.folder, self.root_key = folder, root_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ports = {
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "s3.port": self.port,
            "s3.port.grpc": free_port(),
        }
        (folder / "data").mkdir(parents=True, exist_ok=True)
        command = [
            str(tools.weed()),
            "-logtostderr=true",
            "server",
            f"-dir={folder / 'data'}",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=64",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *compose_flags(),
            *(f"-{name}={port}" for name, port in ports.items()),
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": root_key[0], "AWS_SECRET_ACCESS_KEY": root_key[1]}
        self.server = Server(command, env, folder / "seaweedfs.log")

    def start(self, timeout: float = 60) -> SeaweedFS:
        self.server.start()
        try:
            wait_http(f"{self.url}/healthz", timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # A clean stop takes SeaweedFS ~16 s (its filer waits out a gRPC stream); the data is a test's.
        self.server.stop(grace=3)

    def tail(self) -> str:
        return self.server.tail()
