"""Every HTTP request measured (serving/metrics.py) and, when asked, logged as one JSON line.

Wraps the app's whole ASGI handler, outside routing, so 404s, 405s and 500s are counted too; the
route label is the matched route's template (`/predict`), read from the scope once routing is done,
never the raw path (whose values are unbounded). The access log is off by default
(CRIME_WEATHER_API_ACCESS_LOG): uvicorn's own is off, and a line per request costs more than a
prediction's share of a model call.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

import msgspec

from serving.metrics import UNMATCHED, Metrics

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER: Final = "crime_weather.access"


def access_logger() -> logging.Logger:
    """JSON lines on stdout, one per request, apart from the application's own log (stderr)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


class Instrumented:
    """ASGI middleware around the whole app: metrics for every request, the access log if enabled."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: logging.Logger | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        response = {"status": 500, "bytes": 0}  # 500 unless a response starts

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["bytes"] += len(message.get("body", b""))
            await send(message)

        requests = self.metrics.requests
        requests.in_flight += 1
        try:
            await self.app(scope, receive, observed_send)
        finally:
            requests.in_flight -= 1
            seconds = time.perf_counter() - start
            route = scope.get("path_template") or UNMATCHED
            requests.observe(route, scope["method"], response["status"], seconds)
            if self.access_log is not None:
                self._log(scope, route, response, seconds)

    def _log(self, scope: Scope, route: str, response: dict[str, int], seconds: float) -> None:
        client = scope.get("client")
        line = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "client": client[0] if client else None,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1") or None,
            "route": route,
            "status": response["status"],
            "duration_ms": round(seconds * 1000, 3),
            "bytes_out": response["bytes"],
        }
        assert self.access_log is not None
        self.access_log.info(msgspec.json.encode(line).decode())
