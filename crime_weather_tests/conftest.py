"""Shared fixtures: a private CRIME_WEATHER_HOME per test, the shared real data when present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.shared_data import SHARED_RAW


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty embedded home; every CRIME_WEATHER_* variable from the caller's shell is cleared."""
    import os

    for name in list(os.environ):
        if name.startswith("CRIME_WEATHER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CRIME_WEATHER_HOME", str(tmp_path))
    monkeypatch.setenv("CRIME_WEATHER_SOURCE", "none")
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", "none")  # never the internet
    (tmp_path / "landing").mkdir()
    return tmp_path


@pytest.fixture
def landing(home: Path) -> Path:
    return home / "landing"


@pytest.fixture(scope="session")
def shared_raw() -> Path:
    if not SHARED_RAW.is_dir():
        pytest.skip("../shared/data/raw is not on this machine")
    return SHARED_RAW


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """A real S3 endpoint on loopback (moto's server): the S3 protocol over HTTP, no mocks in-process."""
    import os

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://{host}:{port}"
    server.stop()
