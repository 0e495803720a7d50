"""Ingest speed and memory: parse + validate + build features over every shared file, in process.

Prints crime rows/s, wall time and peak RSS. With --make-run it also times a full `make run` (embedded
default, the shared folder as mirror) from start to every month materialized (benchmarks/make_run.py).

    .venv/bin/python benchmarks/ingest.py [--data ../shared/data/raw] [--make-run]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from harness.shared_data import SHARED_RAW, monthly_tables, parse_folder


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(data: Path) -> dict[str, float]:
    """One full pass; returns its timings."""
    started = time.perf_counter()
    parsed = parse_folder(data)
    parsed_at = time.perf_counter()
    tables = monthly_tables(parsed)  # the same calls as the assets: per crime file, weather, features
    wall = time.perf_counter() - started
    return {
        "files": parsed.files,
        "crime_files": len(parsed.crimes),
        "rows": sum(p.rows_read for p in parsed.crimes),
        "months": len(tables.features),
        "events": sum(len(frame) for frame in tables.crime.values()),
        "feature_rows": sum(len(f) for f in tables.features.values()),
        "failing": len(tables.problems),
        "parse": parsed_at - started,
        "wall": wall,
    }


def report(data: Path, repeats: int) -> None:
    """A cold pass (a fresh process, as each Dagster run is) and the best of warm passes."""
    cold = in_process(data)
    warm = min((in_process(data) for _ in range(repeats)), key=lambda run: run["wall"])
    print(
        f"files: {cold['files']} ({cold['crime_files']} crime); crime rows: {cold['rows']:,}; months: {cold['months']}"
    )
    print(
        f"events in the winning files: {cold['events']:,}; feature rows: {cold['feature_rows']:,}; failing months: {cold['failing']}"
    )
    for label, run in (("cold", cold), (f"warm, best of {repeats}", warm)):
        print(
            f"{label}: wall {run['wall']:.2f} s (parse {run['parse']:.2f} s, validate + features "
            f"{run['wall'] - run['parse']:.2f} s) -> {run['rows'] / run['wall']:,.0f} crime rows/s (goal >= 500,000)"
        )
    print(f"peak RSS: {_peak_rss_mb():,.0f} MB (goal < 1,024)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED_RAW)
    parser.add_argument("--make-run", action="store_true", help="also time a full `make run`")
    parser.add_argument("--repeats", type=int, default=3, help="warm passes after the cold one")
    args = parser.parse_args()
    report(args.data, args.repeats)
    if args.make_run:
        from make_run import measure
        from make_run import report as report_make_run

        figures = measure(args.data, timeout=600, until_champion=False)
        report_make_run({"months": figures["months"]}, timeout=600)


if __name__ == "__main__":
    main()
