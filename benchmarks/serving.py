"""Our API against the framework's ceiling and `mlflow models serve`, with wrk on loopback.

Four servers, loaded in turn (A B C D, A B C D) with single-row predictions at 16 connections: our API
and `mlflow models serve` on the same `models:/crime_weather@champion`; a bare Litestar + msgspec
handler returning a constant under the same uvicorn settings (the framework's ceiling on this
machine); the same bare handler inside our request metrics (what measuring every request costs).
Then a batch of 1,000 rows is timed on our API and its resident memory read. Goals (issue 14): >= 50 %
of the ceiling, >= 50x mlflow's req/s, p99 <= 10 ms, a 1,000-row batch in <= 15 ms; RSS <= 400 MB.
The machine's load average is printed beside the figures: on a shared machine they move with it.

    .venv/bin/python benchmarks/serving.py [--seconds 15] [--rounds 2] [--champion hgb|glm|synthetic]
    CRIME_WEATHER_BENCH_TRACKING_URI=http://127.0.0.1:5001 .venv/bin/python benchmarks/serving.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
from _api import (
    ROW,
    Load,
    add_champion_arguments,
    champion_from,
    model_call_costs,
    post_script,
    rss_mb,
    start_api,
    temp_folder,
    wait_ready,
    wrk,
)

from harness.processes import BIN, Server, free_port


def load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def start_mlflow_serve(uri: str, folder: Path) -> tuple[Server, str]:
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",  # its loader insists, though the model is skops
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",  # it execs `uvicorn`
    }
    command = [
        str(BIN / "mlflow"),
        "models",
        "serve",
        "-m",
        "models:/crime_weather@champion",
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    server = Server(command, env, folder / "mlflow-serve.log").start()
    url = f"http://127.0.0.1:{port}"
    wait_ready(server, f"{url}/ping", "mlflow models serve")
    return server, url


def start_bare(folder: Path, *, instrumented: bool) -> tuple[Server, str]:
    """harness/bare_litestar.py: the same uvicorn settings as `python -m serving`."""
    port = free_port()
    command = [sys.executable, "-m", "harness.bare_litestar", str(port)]
    name = "bare-measured" if instrumented else "bare"
    server = Server(
        command + ["--instrumented"] * instrumented, dict(os.environ), folder / f"{name}.log"
    ).start()
    url = f"http://127.0.0.1:{port}"
    wait_ready(server, f"{url}/schema/openapi.json", f"the {name} Litestar app")
    return server, url


def batch_latency(url: str, rows: int, repeats: int) -> tuple[float, float]:
    """(median, max) seconds of POST /predict/batch with `rows` distinct observations."""
    observations = [
        {**ROW, "comuna": 1 + i % 15, "date": f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}"} for i in range(rows)
    ]
    # Encoded once and parsed after the clock stops: the client's own JSON work is not the API's.
    body = json.dumps({"observations": observations}).encode()
    headers = {"content-type": "application/json"}
    times = []
    with httpx.Client(timeout=60) as client:
        for _ in range(repeats + 1):
            start = time.perf_counter()
            response = client.post(f"{url}/predict/batch", content=body, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200 and len(response.json()["predictions"]) == rows
    times = times[1:]  # the first warms up
    return statistics.median(times), max(times)


def describe(name: str, loads: list[Load]) -> str:
    rates = ", ".join(f"{load.rate:,.0f}" for load in loads)
    return (
        f"{name:<30} {statistics.mean(load.rate for load in loads):>9,.0f} req/s  "
        f"p50 {statistics.median(load.p50_ms for load in loads):7.1f} ms  "
        f"p99 {statistics.median(load.p99_ms for load in loads):7.1f} ms  "
        f"errors {sum(load.errors for load in loads)}  (rounds: {rates})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="per round and server")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    add_champion_arguments(parser)
    args = parser.parse_args()

    uri = champion_from(args)
    costs = model_call_costs(uri)
    print(
        "one model call: " + ", ".join(f"{rows} {seconds * 1000:.1f} ms" for rows, seconds in costs.items())
    )
    print(f"machine: {os.cpu_count()} CPUs, {load_average()} before starting")

    folder = temp_folder("crime-weather-serving-bench-")
    api, api_url = start_api(uri, folder)
    mlflow, mlflow_url = start_mlflow_serve(uri, folder)
    bare, bare_url = start_bare(folder, instrumented=False)
    measured, measured_url = start_bare(folder, instrumented=True)
    try:
        ours = httpx.post(f"{api_url}/predict", json=ROW).json()
        theirs = httpx.post(f"{mlflow_url}/invocations", json={"dataframe_records": [ROW]}).json()
        if ours["expected_robberies"] != theirs["predictions"][0]:
            raise SystemExit(f"the servers disagree: {ours} vs {theirs}")
        print(f"same answer from both: {ours['expected_robberies']:.6f} (model v{ours['model_version']})")

        targets = {
            "api (ours)": (f"{api_url}/predict", post_script(ROW)),
            "bare Litestar (ceiling)": (f"{bare_url}/predict", post_script(ROW)),
            "bare Litestar + our metrics": (f"{measured_url}/predict", post_script(ROW)),
            "mlflow models serve": (f"{mlflow_url}/invocations", post_script({"dataframe_records": [ROW]})),
        }
        for url, script in targets.values():  # warm both up
            wrk(url, script, connections=args.connections, seconds=3)
        results: dict[str, list[Load]] = {name: [] for name in targets}
        for round_number in range(args.rounds):
            for name, (url, script) in targets.items():  # A B A B
                load = wrk(url, script, connections=args.connections, seconds=args.seconds)
                results[name].append(load)
                print(
                    f"  round {round_number + 1} {name:<28} {load.rate:8,.0f} req/s  p50 {load.p50_ms:6.1f} ms  "
                    f"p99 {load.p99_ms:6.1f} ms  errors {load.errors}  ({load_average()})",
                    flush=True,
                )

        batch_1k, batch_1k_max = batch_latency(api_url, 1000, repeats=20)
        batch_10k, _ = batch_latency(api_url, 10_000, repeats=3)
        rss, peak = rss_mb(api.pid)

        rate = {name: statistics.mean(load.rate for load in loads) for name, loads in results.items()}
        ours = rate["api (ours)"]
        of_ceiling = ours / rate["bare Litestar (ceiling)"]
        of_mlflow = ours / rate["mlflow models serve"]
        metrics_cost = 1 - rate["bare Litestar + our metrics"] / rate["bare Litestar (ceiling)"]
        print(f"\nsingle predictions, {args.connections} connections, {args.rounds} x {args.seconds} s each:")
        for name, loads in results.items():
            print(describe(name, loads))
        print(f"ours / bare Litestar ceiling: {of_ceiling:.0%}")
        print(f"ours / mlflow models serve: {of_mlflow:.1f}x")
        print(
            f"our request metrics on the bare handler: {metrics_cost:.1%} less throughput "
            "(negative: more; the bare handler is where their cost shows most)"
        )
        print(f"batch of 1,000 rows: median {batch_1k * 1000:.1f} ms (max {batch_1k_max * 1000:.1f} ms)")
        print(f"batch of 10,000 rows: median {batch_10k * 1000:.1f} ms")
        print(f"API resident memory: {rss:.0f} MB now, {peak:.0f} MB peak")
        print(f"machine: {os.cpu_count()} CPUs, {load_average()} at the end")
        p99 = statistics.median(load.p99_ms for load in results["api (ours)"])
        goals = {
            ">= 50 % of the ceiling": of_ceiling >= 0.5,
            ">= 50x mlflow serve": of_mlflow >= 50,
            "p99 <= 10 ms": p99 <= 10,
            "batch 1,000 <= 15 ms": batch_1k <= 0.015,
            "RSS <= 400 MB": peak <= 400,
        }
        print("goals: " + ", ".join(f"{goal} {'met' if met else 'MISSED'}" for goal, met in goals.items()))
        return 0
    finally:
        for server in (api, mlflow, bare, measured):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
