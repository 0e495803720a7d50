"""What a request costs apart from the model call, measured in process (no network, no wrk, little noise).

The real app (create_app, a real registry, the real champion) is driven through its ASGI interface,
one request at a time and in concurrent waves; beside it, the model call alone (`pipeline.predict` on
the frame), building the frame, and a bare Litestar + msgspec handler returning a constant (the
framework's own floor), each with and without our request metrics (serving/instrument.py), and the
app with its model call replaced by a constant: the request path's own cost.
Medians of many repetitions, in microseconds of CPU time of the process (all its threads): what a
request costs in CPU, which a loaded machine inflates far less than wall-clock time.

    .venv/bin/python benchmarks/request_path.py [--requests 2000] [--wave 16] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec
from _api import add_champion_arguments, champion_from, random_rows, temp_folder

from crime_weather.core.settings import Settings


class Constant:
    """Stands in for the model to leave only the request path's own cost."""

    def predict(self, frame: Any) -> Any:
        import numpy as np

        return np.ones(len(frame))


def scope_for(path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8800),
    }


async def call(app: Callable, path: str, body: bytes) -> tuple[int, bytes]:
    """One request through an ASGI app, as uvicorn hands it over: (status, body)."""
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope_for(path, body), receive, send)
    return status, b"".join(chunks)


async def per_request(app: Callable, path: str, bodies: list[bytes], wave: int) -> float:
    """Median CPU seconds per request, sending `wave` requests at a time."""
    times = []
    for start in range(0, len(bodies), wave):
        chunk = bodies[start : start + wave]
        began = time.process_time()
        answers = await asyncio.gather(*(call(app, path, body) for body in chunk))
        times.append((time.process_time() - began) / len(chunk))
        assert all(status == 200 for status, _ in answers), answers[0]
    return statistics.median(times)


def timed(function: Callable[[], object], repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        began = time.process_time()
        function()
        times.append(time.process_time() - began)
    return statistics.median(times)


async def measure(args: argparse.Namespace, uri: str) -> None:
    from dataclasses import replace

    import threadpoolctl
    from litestar import Litestar

    from harness.bare_litestar import predict as bare_predict
    from serving.app import create_app
    from serving.instrument import Instrumented
    from serving.metrics import Metrics
    from serving.predict import observations_frame, predict_rows
    from serving.runtime import Runtime
    from serving.settings import ApiSettings
    from serving.structs.requests import Observation

    runtime = Runtime.from_settings(
        Settings(home=temp_folder("request-path-"), mlflow_tracking_uri=uri), ApiSettings(poll_seconds=3600)
    )
    app = create_app(runtime)
    bare = Litestar(route_handlers=[bare_predict])
    bare_plain = bare.asgi_handler
    bare_measured = Instrumented(bare_plain, Metrics())
    rows = random_rows(args.requests, seed=5)
    bodies = [json.dumps(row).encode() for row in rows]
    batch_body = json.dumps({"observations": rows[:1000]}).encode()
    observations = [msgspec.json.decode(body, type=Observation) for body in bodies]
    async with app.lifespan():
        store = runtime.store
        champion = store.champion
        measured = app.asgi_handler
        costs: dict[str, float] = {}
        with threadpoolctl.threadpool_limits(1, user_api="openmp"):
            for size in (1, args.wave, 1000):
                frame = observations_frame(observations[:size])
                costs[f"frame {size}"] = timed(lambda f=size: observations_frame(observations[:f]), 200)
                costs[f"predict {size}"] = timed(lambda f=frame: champion.pipeline.predict(f), 100)
                costs[f"predict_rows {size}"] = timed(
                    lambda f=size: predict_rows(champion, observations[:f]), 100
                )
        for wave in (1, args.wave):
            for _ in range(2):  # warm up, then measure; with and without metrics interleaved
                app.asgi_handler = measured.app
                ours_plain = await per_request(app, "/predict", bodies, wave)
                app.asgi_handler = measured
                ours = await per_request(app, "/predict", bodies, wave)
                bare.asgi_handler = bare_plain
                floor = await per_request(bare, "/predict", bodies, wave)
                bare.asgi_handler = bare_measured
                floor_measured = await per_request(bare, "/predict", bodies, wave)
            costs[f"api {wave}"], costs[f"api unmeasured {wave}"] = ours, ours_plain
            costs[f"bare {wave}"], costs[f"bare measured {wave}"] = floor, floor_measured
        # The request path alone: the same app and requests, the model call replaced by a constant.
        store.champion = replace(champion, pipeline=Constant())
        for wave in (1, args.wave):
            for _ in range(2):
                costs[f"path {wave}"] = await per_request(app, "/predict", bodies, wave)
        store.champion = champion
        times = []
        for _ in range(21):
            began = time.process_time()
            status, _ = await call(app, "/predict/batch", batch_body)
            times.append(time.process_time() - began)
            assert status == 200
        batch = statistics.median(times[1:])
        if args.profile:
            from pyinstrument import Profiler

            with Profiler(interval=0.0002) as profiler:
                await per_request(app, "/predict", bodies, args.wave)
            profiler.print(show_all=False, short_mode=True)

    us = {name: value * 1e6 for name, value in costs.items()}
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("model input and model call, in the predict thread (median CPU µs):")
    for size in (1, args.wave, 1000):
        print(
            f"  {size:>5} rows: frame {us[f'frame {size}']:8.0f}  pipeline.predict {us[f'predict {size}']:8.0f}  "
            f"predict_rows (both + checks) {us[f'predict_rows {size}']:8.0f}"
        )
    print("POST /predict through the app's ASGI interface, per request (median CPU µs):")
    for wave in (1, args.wave):
        print(
            f"  {wave:>2} at a time: api {us[f'api {wave}']:7.0f}  | api without metrics {us[f'api unmeasured {wave}']:7.0f}"
            f"  | bare Litestar {us[f'bare {wave}']:5.0f}, with our metrics {us[f'bare measured {wave}']:5.0f}"
        )
    print("the request path alone (the model call replaced by a constant), per request (median CPU µs):")
    for wave in (1, args.wave):
        path, floor = us[f"path {wave}"], us[f"bare {wave}"]
        print(
            f"  {wave:>2} at a time: {path:5.0f}, of which the bare framework {floor:3.0f} and ours {path - floor:4.0f}"
        )
    print(
        f"POST /predict/batch of 1,000 rows through the app: {batch * 1000:.1f} ms "
        f"(of which pipeline.predict {us['predict 1000'] / 1000:.1f} ms, frame {us['frame 1000'] / 1000:.1f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--wave", type=int, default=16, help="concurrent requests, like 16 connections")
    add_champion_arguments(parser)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of one pass")
    args = parser.parse_args()
    uri = champion_from(args)
    asyncio.run(measure(args, uri))
    return 0


if __name__ == "__main__":
    sys.exit(main())
