"""Soak: 60 s at 64 connections of mixed traffic, /metrics scraped every second, a promotion in the
middle; errors and memory.

Traffic per 50 requests: 47 single predictions (varied dates, comunas, weather), one batch of 100,
one GET /health, one GET /model; beside it, a scraper reads /metrics once a second as Prometheus
would. Halfway through, a new version is registered and promoted, so the API swaps models under load.
Goals (issue 14): 0 errors (wrk's and the scraper's), resident memory growing <= 2 %, and /metrics
agreeing with wrk on the requests answered and showing the new version.

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--connections 64] [--no-promotion]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter

import httpx
from _api import (
    TRACKING_URI_ENV,
    add_champion_arguments,
    champion_from,
    random_rows,
    rss_mb,
    start_api,
    temp_folder,
    wrk,
)
from prometheus_client.parser import text_string_to_metric_families


def mixed_script() -> str:
    singles = [json.dumps(row) for row in random_rows(500, seed=1)]
    batch = json.dumps({"observations": random_rows(100, seed=2)})
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


def answered(url: str) -> Counter[int]:
    """Requests the API answered so far by status, from its /metrics (scrapes themselves left out)."""
    counts: Counter[int] = Counter()
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            if sample.name == "crime_weather_api_requests_total" and sample.labels["route"] != "/metrics":
                counts[int(sample.labels["status"])] += int(sample.value)
    return counts


def served_version(url: str) -> str | None:
    """The champion's version as /metrics states it (crime_weather_model_info)."""
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            if sample.name == "crime_weather_model_info":
                return sample.labels["version"]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    add_champion_arguments(parser)
    parser.add_argument("--no-promotion", action="store_true", help="do not promote a version mid-soak")
    args = parser.parse_args()

    uri = champion_from(args)
    promote = not args.no_promotion and uri.startswith("sqlite:")  # never touch a registry we were given
    if not args.no_promotion and not promote:
        print(f"no promotion: {TRACKING_URI_ENV} points at a registry this script must not change")
    api, url = start_api(uri, temp_folder("crime-weather-soak-"), api_poll_seconds="2")
    try:
        script = mixed_script()
        wrk(url, script, connections=args.connections, seconds=5)  # warm-up: allocator and caches settle
        start_rss, _ = rss_mb(api.pid)
        version_before = httpx.get(f"{url}/model").json()["version"]
        answered_before = answered(url)

        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            began = time.monotonic()
            while not done.wait(5):
                samples.append((time.monotonic() - began, rss_mb(api.pid)[0]))

        scraped = {"ok": 0, "failed": 0}
        scrape_errors: list[str] = []

        def scrape() -> None:
            with httpx.Client(timeout=5) as client:
                while not done.wait(1):
                    try:
                        response = client.get(f"{url}/metrics")
                        ok = response.status_code == 200 and "crime_weather_model_info" in response.text
                        problem = None if ok else f"HTTP {response.status_code}"
                    except httpx.HTTPError as error:
                        problem = repr(error)
                    scraped["failed" if problem else "ok"] += 1
                    if problem:
                        scrape_errors.append(problem)

        def promote_midway() -> None:
            from harness.models import register_model

            if not done.wait(args.seconds / 2):
                register_model(uri, max_iter=args.max_iter, seed=4)

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=scrape, daemon=True)]
        if promote:
            threads.append(threading.Thread(target=promote_midway, daemon=True))
        for thread in threads:
            thread.start()
        load = wrk(url, script, connections=args.connections, seconds=args.seconds)
        done.set()
        end_rss, peak_rss = rss_mb(api.pid)
        counted = answered(url) - answered_before  # before this script's own /model request
        version_after = httpx.get(f"{url}/model").json()["version"]
        metrics_version = served_version(url)

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
            + f"; /metrics says v{metrics_version}"
        )
        print(
            f"/metrics: {scraped['ok']} scrapes answered, {scraped['failed']} failed"
            + (f" ({scrape_errors[0]})" if scrape_errors else "")
            + f"; it counted {counted.total():,} requests, {sum(n for s, n in counted.items() if s >= 400)} "
            f"of them >= 400 (wrk completed {load.requests:,})"
        )
        print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        goals = {
            "0 errors": load.errors == 0 and scraped["failed"] == 0,
            "memory growth <= 2 %": growth <= 2,
            # wrk stops with requests in flight that the API still answers: at most one per connection.
            "/metrics agrees with wrk": 0 <= counted.total() - load.requests <= args.connections
            and all(status < 400 for status in counted),
            "scraped every second": scraped["ok"] >= args.seconds - 2,
        }
        if promote:
            goals["swapped under load"] = version_after != version_before
            goals["/metrics shows the new version"] = metrics_version == version_after
        print("goals: " + ", ".join(f"{goal} {'met' if met else 'MISSED'}" for goal, met in goals.items()))
        return 0
    finally:
        api.stop()


if __name__ == "__main__":
    sys.exit(main())
