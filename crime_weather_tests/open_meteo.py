"""The Open-Meteo forecast API's protocol on loopback: a real HTTP server answering the test's payload.

Only the internet is faked: the platform's own HTTP client, URL and parsing run as in production.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse


@dataclass
class ForecastServer:
    """What the server answers (`payload`, or Open-Meteo's error body when `status` is not 200) and
    the queries it received."""

    url: str = ""
    payload: bytes = b""
    status: int = 200
    queries: list[dict[str, list[str]]] = field(default_factory=list)


@contextmanager
def serve_forecast(payload: bytes) -> Iterator[ForecastServer]:
    state = ForecastServer(payload=payload)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.queries.append(parse_qs(urlparse(self.path).query))
            body = state.payload
            if state.status != 200:
                body = json.dumps({"error": True, "reason": "Invalid daily variable"}).encode()
            self.send_response(state.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/forecast"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
