"""Downloads over real HTTP on loopback (the internet is never touched): progress, retries, backoff."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from typing import ClassVar

import httpx
import pytest

from crime_weather.sources.acquisition import RemoteFile, fetch
from crime_weather.sources.download import LogProgress, Retry, describe

BODY = bytes(range(256)) * 4096  # 1 MiB


class Flaky(http.server.BaseHTTPRequestHandler):
    """Answers each GET with the next step of `plan`: an HTTP status, 'short' (the connection drops
    mid-body) or 'ok'; the last step repeats."""

    plan: ClassVar[list[str]] = []
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        step = self.plan[min(len(self.requests), len(self.plan) - 1)]
        self.requests.append(self.path)
        if step.isdigit():
            self.send_response(int(step))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY[: len(BODY) // 3] if step == "short" else BODY)
        if step == "short":
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Flaky]]]:
    handler = type("Handler", (Flaky,), {"plan": ["ok"], "requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()


def get(url: str, plan: list[str], handler: type[Flaky], attempts: int = 4):
    handler.plan = plan
    slept: list[float] = []
    seen: list[tuple[int, int | None]] = []
    retry = Retry(attempts=attempts, backoff_seconds=0.01, sleep=slept.append)
    with httpx.Client(timeout=10) as client:
        try:
            data = fetch(RemoteFile("delitos_2019.csv", (f"{url}/delitos_2019.csv",)), client,
                         lambda name, done, total, elapsed: seen.append((done, total)), retry)  # fmt: skip
        except OSError as error:
            return error, slept, seen
    return data, slept, seen


def test_what_may_pass_is_tried_again_with_backoff(server, caplog):
    url, handler = server
    caplog.set_level(logging.WARNING, logger="crime_weather.acquisition")
    data, slept, seen = get(url, ["503", "short", "429", "ok"], handler)
    assert data == BODY
    assert len(handler.requests) == 4
    assert slept == [0.01, 0.02, 0.04]  # doubling
    assert seen[-1] == (len(BODY), len(BODY)) and len(seen) > 1  # progress in bytes of the total
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings[0].startswith("delitos_2019.csv: attempt 1 of 4 failed") and "HTTP 503" in warnings[0]
    assert "RemoteProtocolError" in warnings[1] and "expected 1048576" in warnings[1]  # cut short


def test_what_will_not_pass_is_not_retried(server):
    url, handler = server
    error, slept, _ = get(url, ["404"], handler)
    assert isinstance(error, OSError) and "HTTP 404" in str(error) and "(after 1 attempt)" in str(error)
    assert len(handler.requests) == 1 and slept == []


def test_the_report_says_how_often_it_tried(server):
    url, handler = server
    error, slept, _ = get(url, ["503"], handler, attempts=3)
    assert isinstance(error, OSError) and "HTTP 503 (after 3 attempts)" in str(error)
    assert len(handler.requests) == 3 and len(slept) == 2


def test_progress_reads_as_bytes_of_total_and_rate(caplog):
    assert describe(12_300_000, 45_600_000, 6.0) == "12.3 MB of 45.6 MB (27%), 2.0 MB/s"
    assert describe(5_000_000, None, 2.0) == "5.0 MB (size unknown), 2.5 MB/s"
    logger = logging.getLogger("crime_weather.acquisition")
    caplog.set_level(logging.INFO, logger=logger.name)
    progress = LogProgress(logger, every=3600)
    for done in (1_000_000, 2_000_000, 3_000_000, 4_000_000):
        progress("a.csv", done, 4_000_000, 1.0)
    # The first chunk, then nothing until the file is complete.
    assert [r.getMessage() for r in caplog.records] == [
        "a.csv: 1.0 MB of 4.0 MB (25%), 1.0 MB/s",
        "a.csv: 4.0 MB of 4.0 MB (100%), 4.0 MB/s",
    ]
