"""Downloads that say how far they are and try again.

A yearly crime file is tens of MB behind a link that may be slow or flaky: each download reports its
progress (bytes of total, rate), and what may pass (timeouts, dropped connections, HTTP 500, 502, 503,
504, 408, 425 and 429: RETRYABLE_STATUS) is tried again with exponential backoff; what will not pass
(a 404) is not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# name, bytes so far, total bytes (None when the server does not say), seconds since the start
Progress = Callable[[str, int, int | None, float], None]
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK_BYTES = 1 << 16


class TransientError(OSError):
    """A failure that may pass: worth another attempt."""


class PermanentError(OSError):
    """A failure another attempt will not change (a missing file, a refused request)."""


@dataclass(frozen=True)
class Retry:
    """How often and how patiently: attempt k waits backoff_seconds * 2**(k-1) before the next."""

    attempts: int = 4
    backoff_seconds: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int) -> float:
        return self.backoff_seconds * 2 ** (attempt - 1)


def no_progress(name: str, done: int, total: int | None, elapsed: float) -> None:
    """A Progress that reports nothing."""


def megabytes(count: float) -> str:
    return f"{count / 1e6:.1f} MB"


def describe(done: int, total: int | None, elapsed: float) -> str:
    """'12.3 MB of 45.6 MB (27 %), 2.1 MB/s'."""
    rate = f"{megabytes(done / elapsed)}/s" if elapsed > 0 else "-"
    if total:
        return f"{megabytes(done)} of {megabytes(total)} ({done / total:.0%}), {rate}"
    return f"{megabytes(done)} (size unknown), {rate}"


class LogProgress:
    """A Progress that logs each file at most every `every` seconds, and when it is complete."""

    def __init__(self, logger: logging.Logger, every: float = 2.0) -> None:
        self.logger, self.every = logger, every
        self._last: dict[str, float] = {}

    def __call__(self, name: str, done: int, total: int | None, elapsed: float) -> None:
        now = time.monotonic()
        complete = total is not None and done >= total
        if not complete and now - self._last.get(name, now - self.every) < self.every:
            return
        self._last[name] = now
        self.logger.info("%s: %s", name, describe(done, total, elapsed))


def download(url: str, client: httpx.Client, name: str, progress: Progress = no_progress) -> bytes:
    """The body of `url`, streamed with progress; TransientError or PermanentError when it fails."""
    started = time.monotonic()
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                kind = TransientError if response.status_code in RETRYABLE_STATUS else PermanentError
                raise kind(f"{url}: HTTP {response.status_code}")
            total = int(response.headers.get("content-length") or 0) or None
            body = bytearray()
            for chunk in response.iter_bytes(CHUNK_BYTES):
                body += chunk
                progress(name, len(body), total, time.monotonic() - started)
    except httpx.TransportError as error:
        raise TransientError(f"{url}: {type(error).__name__}: {error}") from error
    except httpx.HTTPError as error:
        raise PermanentError(f"{url}: {error}") from error
    if total is not None and len(body) != total:
        raise TransientError(f"{url}: {len(body)} of {total} bytes arrived")
    return bytes(body)
