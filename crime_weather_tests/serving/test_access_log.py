"""The access log: off by default, one JSON line per request when CRIME_WEATHER_API_ACCESS_LOG is on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from crime_weather_tests.serving.conftest import OBSERVATIONS, api_settings, runtime_for
from serving.app import create_app
from serving.instrument import ACCESS_LOGGER


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_off_by_default(client: TestClient, access_lines: list[str]):
    assert client.post("/predict", json=OBSERVATIONS[0]).status_code == 200
    assert access_lines == []


def test_one_json_line_per_request_when_on(registry: str, home: Path, access_lines: list[str]):
    with TestClient(create_app(runtime_for(registry, home, api_settings(access_log=True)))) as client:
        assert client.post("/predict", json=OBSERVATIONS[0]).status_code == 200
        assert client.get("/health/live", params={"probe": "k8s"}).status_code == 200
        assert client.get("/nowhere").status_code == 404
    records = [json.loads(line) for line in access_lines]
    assert [(r["method"], r["path"], r["route"], r["status"]) for r in records] == [
        ("POST", "/predict", "/predict", 200),
        ("GET", "/health/live", "/health/live", 200),
        ("GET", "/nowhere", "unmatched", 404),
    ]
    assert records[1]["query"] == "probe=k8s" and records[0]["query"] is None
    for record in records:
        assert set(record) == {
            "ts",
            "client",
            "method",
            "path",
            "query",
            "route",
            "status",
            "duration_ms",
            "bytes_out",
        }
        assert record["duration_ms"] > 0 and record["bytes_out"] > 0 and record["ts"].endswith("+00:00")
