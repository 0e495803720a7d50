"""Soak: 60 s at 64 connections of mixed traffic, a promotion in the middle; errors and memory.

Traffic per 50 requests: 47 single predictions (varied dates, comunas, weather), one batch of 100,
one GET /health, one GET /model. Halfway through, a new version is registered and promoted, so the
API swaps models under load. Goals (issue 6): 0 errors, resident memory growing < 10 %.

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--connections 64] [--no-promotion]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time

import httpx
from _api import TRACKING_URI_ENV, champion_registry, rss_mb, start_api, temp_folder, wrk

from crime_weather.core.names import WEATHER_BOUNDS


def observations(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        row = {"date": f"{rng.randint(2016, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"}
        row["comuna"] = rng.randint(1, 15)
        for name, (low, high) in WEATHER_BOUNDS.items():
            if rng.random() < 0.7:
                row[name] = round(rng.uniform(low, high), 1)
        rows.append(row)
    return rows


def mixed_script() -> str:
    singles = [json.dumps(row) for row in observations(500, seed=1)]
    batch = json.dumps({"observations": observations(100, seed=2)})
    lua_singles = ",\n".join(json.dumps(body) for body in singles)
    return f"""
local singles = {{
{lua_singles}
}}
local batch = {json.dumps(batch)}
local headers = {{["Content-Type"] = "application/json"}}
local counter = 0
request = function()
  counter = counter + 1
  local slot = counter % 50
  if slot == 0 then return wrk.format("POST", "/predict/batch", headers, batch) end
  if slot == 1 then return wrk.format("GET", "/health") end
  if slot == 2 then return wrk.format("GET", "/model") end
  return wrk.format("POST", "/predict", headers, singles[counter % #singles + 1])
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=200, help="trees of the synthetic champion")
    parser.add_argument("--no-promotion", action="store_true", help="do not promote a version mid-soak")
    args = parser.parse_args()

    uri, what = champion_registry(args.max_iter)
    print(f"champion: {what}")
    promote = not args.no_promotion and uri.startswith("sqlite:")  # never touch a registry we were given
    if not args.no_promotion and not promote:
        print(f"no promotion: {TRACKING_URI_ENV} points at a registry this script must not change")
    api, url = start_api(uri, temp_folder("crime-weather-soak-"), api_poll_seconds="2")
    try:
        script = mixed_script()
        wrk(url, script, connections=args.connections, seconds=5)  # warm-up: allocator and caches settle
        start_rss, _ = rss_mb(api.pid)
        version_before = httpx.get(f"{url}/model").json()["version"]

        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            while not done.wait(5):
                samples.append((time.monotonic() - began, rss_mb(api.pid)[0]))

        def promote_midway() -> None:
            from harness.models import register_model

            if not done.wait(args.seconds / 2):
                register_model(uri, max_iter=args.max_iter, seed=4)

        threads = [threading.Thread(target=sample, daemon=True)]
        if promote:
            threads.append(threading.Thread(target=promote_midway, daemon=True))
        for thread in threads:
            thread.start()
        load = wrk(url, script, connections=args.connections, seconds=args.seconds)
        done.set()
        end_rss, peak_rss = rss_mb(api.pid)
        version_after = httpx.get(f"{url}/model").json()["version"]

        growth = (end_rss - start_rss) / start_rss * 100
        print(f"\n{args.seconds} s at {args.connections} connections, mixed traffic:")
        print(
            f"requests {load.requests:,}  ({load.rate:,.0f} req/s)  p50 {load.p50_ms:.1f} ms  p99 {load.p99_ms:.1f} ms"
        )
        print(
            f"errors {load.errors}  (non-2xx {load.non_2xx}, timeouts {load.timeouts}, "
            f"socket {load.errors - load.non_2xx - load.timeouts})"
        )
        print("resident memory every 5 s: " + ", ".join(f"{mb:.0f}" for _, mb in samples) + " MB")
        print(
            f"resident memory: {start_rss:.0f} MB after warm-up -> {end_rss:.0f} MB at the end "
            f"({growth:+.1f} %), peak {peak_rss:.0f} MB"
        )
        print(
            f"model version: v{version_before} -> v{version_after}"
            + (" (promoted mid-soak)" if promote else "")
        )
        goals = {"0 errors": load.errors == 0, "memory growth < 10 %": growth < 10}
        if promote:
            goals["swapped under load"] = version_after != version_before
        print("goals: " + ", ".join(f"{goal} {'met' if met else 'MISSED'}" for goal, met in goals.items()))
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
