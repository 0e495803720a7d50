"""A headless Chromium driven over the Chrome DevTools Protocol: one browser for the whole session.

Only what the page tests need: open a URL in a fresh tab, wait for its load event, collect console
errors and uncaught exceptions, evaluate JavaScript, take a full-page screenshot. The protocol runs on
the `websockets` package's synchronous client (in the virtualenv through uvicorn[standard]).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
)
_LISTENING = re.compile(r"DevTools listening on (ws://[^\s]+)")


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """The browser process and the HTTP address of its DevTools endpoint."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline, seen = time.monotonic() + 60, []
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            if match := _LISTENING.search(line):
                self.http = "http://" + match[1].removeprefix("ws://").split("/", 1)[0]
                return
        self.close()
        raise RuntimeError("chromium did not start its DevTools endpoint:\n" + "".join(seen[-20:]))

    def open(self, url: str, width: int = 1280, height: int = 1600, timeout: float = 30) -> Tab:
        """A new tab at `width` x `height` that has loaded `url` (its load event fired)."""
        target = httpx.put(f"{self.http}/json/new?about:blank", timeout=10).json()
        # The tab owns its connection (close_tab closes it): websockets 17 asks for legacy=True there.
        socket = connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10, legacy=True)
        tab = Tab(socket, target["id"])
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            tab.send(method)
        tab.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        tab.send("Page.navigate", url=url)
        tab.wait_for("Page.loadEventFired", timeout)
        return tab

    def close_tab(self, tab: Tab) -> None:
        tab.connection.close()
        httpx.get(f"{self.http}/json/close/{tab.target_id}", timeout=10)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Tab:
    """One page: commands and their answers, and the errors the page reported meanwhile."""

    connection: ClientConnection
    target_id: str
    errors: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method", ""), message.get("params", {})
        self.events.append(method)
        if method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params["exceptionDetails"])[:500])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(json.dumps(params["args"])[:500])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"{params['entry']['text']} ({params['entry'].get('url', '')})")

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.connection.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.connection.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._note(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events:
            self._note(json.loads(self.connection.recv(timeout=max(deadline - time.monotonic(), 0.01))))

    def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """The whole page (beyond the viewport) as a PNG."""
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
