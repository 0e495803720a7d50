"""GET /scorecard's latency on loopback: `python -m serving` over a warehouse holding a realistic scorecard.

The scorecard: `--months` scored months, each with `--outlooks` outlook versions x 6 horizon months
and `--issues` forecast issues x 7 lead days (figures drawn at random, validated by the asset's own
schema, written by core.storage where the asset writes them). One client on one keep-alive connection
asks each query `--requests` times after a warm-up; medians, p99 and maxima in milliseconds, with
the body size. The target: < 50 ms.

    .venv/bin/python benchmarks/scorecard.py [--months 12] [--outlooks 3] [--issues 30] [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
import numpy as np
import pandas as pd
from _api import temp_folder

from crime_weather.core.names import NAIVE_COLUMNS, SCORE_FIELDS, SCORECARD_COLUMNS, SCORECARD_TABLE
from crime_weather.core.storage import LocalStore, frame_to_parquet
from crime_weather.tables.schemas import forecast_scorecard_schema
from harness.models import register_model, tracking_uri
from harness.processes import api_server, free_port, wait_http

_STRING = pd.StringDtype("pyarrow")


def month_table(month: str, outlooks: int, issues: int, rng: np.random.Generator) -> pd.DataFrame:
    """One month's scorecard as the asset stores it, with random but valid figures."""
    keys = [
        ("outlook", str(version), str(version), "month", h)
        for version in range(1, outlooks + 1)
        for h in range(1, 7)
    ]
    first = pd.Timestamp(f"{month}-01")
    for day in range(issues):
        issue = f"{first + pd.Timedelta(days=day):%Y-%m-%d}"
        keys += [("forecast", issue, str(outlooks), "day", lead) for lead in range(1, 8)]
    table = pd.DataFrame(keys, columns=["source", "source_key", "model_version", "horizon_unit", "horizon"])
    rows = len(table)
    table.insert(0, "month", month)
    table.insert(
        4,
        "issued_at",
        pd.Series(pd.Timestamp("2024-01-01T10:00:00Z"), index=table.index).astype("datetime64[ns, UTC]"),
    )
    outlook = (table["source"] == "outlook").to_numpy()
    table["n"] = np.where(outlook, 450, 15)
    table["observed_robberies"] = table["n"] * rng.uniform(4, 6, rows)
    table["expected_robberies"] = table["observed_robberies"] * rng.uniform(0.85, 1.15, rows)
    table["poisson_deviance"], table["mae"] = rng.uniform(0.9, 1.4, rows), rng.uniform(1.5, 2.5, rows)
    table["pred_over_obs"] = table["expected_robberies"] / table["observed_robberies"]
    table["coverage_80"], table["coverage_95"] = rng.uniform(0.7, 0.9, rows), rng.uniform(0.9, 1.0, rows)
    for name in NAIVE_COLUMNS:
        for field in SCORE_FIELDS:
            table[f"{name}_{field}"] = np.where(outlook, rng.uniform(0.9, 1.6, rows), np.nan)
    deviances = table[[f"{name}_poisson_deviance" for name in NAIVE_COLUMNS]]
    table["best_naive"] = pd.Series(
        np.where(
            outlook, deviances.fillna(np.inf).idxmin(axis=1).str.removesuffix("_poisson_deviance"), None
        ),
        dtype=_STRING,
    )
    table["best_naive_poisson_deviance"] = deviances.min(axis=1)
    for name in ("month", "source", "source_key", "model_version", "horizon_unit"):
        table[name] = table[name].astype(_STRING)
    table = table.astype({"horizon": "int64", "n": "int64"})[list(SCORECARD_COLUMNS)]
    return forecast_scorecard_schema(month).validate(table)


def timed(
    client: httpx.Client, path: str, params: dict, requests: int, rows: bool = True
) -> tuple[list[float], int, int]:
    for _ in range(20):  # warm-up: the first read of the warehouse, the thread pool
        client.get(path, params=params).raise_for_status()
    times, count, size = [], 0, 0
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path, params=params)
        times.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
        count, size = len(response.json()["rows"]) if rows else 0, len(response.content)
    return times, count, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--outlooks", type=int, default=3)
    parser.add_argument("--issues", type=int, default=30, help="forecast issues per month")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    folder = temp_folder("crime-weather-scorecard-")
    uri = tracking_uri(folder / "registry")
    register_model(uri, seed=1)
    rng = np.random.default_rng(0)
    months = [f"{day:%Y-%m}" for day in pd.date_range("2024-01-01", periods=args.months, freq="MS")]
    warehouse = LocalStore(folder / "warehouse")
    total = 0
    for month in months:
        table = month_table(month, args.outlooks, args.issues, rng)
        total += len(table)
        warehouse.write(f"{SCORECARD_TABLE}/{month}.parquet", frame_to_parquet(table))
    print(
        f"scorecard: {args.months} months x ({args.outlooks} outlooks x 6 horizons + {args.issues} issues x 7 days) = {total} rows"
    )
    port = free_port()
    server = api_server(uri, port, folder / "api.log").start()
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=120)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            times, _, _ = timed(client, "/health/live", {}, args.requests, rows=False)
            print(f"{'GET /health/live (floor)':>24}: median {statistics.median(times):6.2f} ms")
        queries = {
            "everything": {},
            "one month": {"month": months[-1]},
            "a version, one horizon": {"version": "1", "horizon": 3},
            "outlooks of one month": {"month": months[0], "source": "outlook"},
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for what, params in queries.items():
                times, rows, size = timed(client, "/scorecard", params, args.requests)
                p99 = np.percentile(times, 99)
                print(
                    f"{what:>24}: {rows:5d} rows {size / 1024:7.1f} KiB  median {statistics.median(times):6.2f} ms"
                    f"  p99 {p99:6.2f} ms  max {max(times):6.2f} ms"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
