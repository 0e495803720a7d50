"""Ingest speed and memory: parse + validate + build features over every shared file, in process.

Prints crime rows/s, wall time and peak RSS. With --make-run it also times a full `make run` (embedded
default, the shared folder as mirror) from start to every month materialized (benchmarks/make_run.py).

    .venv/bin/python benchmarks/ingest.py [--data ../shared/data/raw] [--make-run]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crime_weather.core.settings import DEFAULT_WEATHER_PRIORITY
from crime_weather.sources.catalog import CRIME, WEATHER, classify
from crime_weather.sources.crime import parse_crime
from crime_weather.sources.files import open_raw
from crime_weather.sources.weather import parse_weather
from crime_weather.tables.validation import crime_partitions, feature_partitions, weather_partitions

ROOT = Path(__file__).resolve().parents[1]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process(data: Path) -> dict[str, float]:
    """One full pass; returns its timings."""
    files = sorted(p for p in data.iterdir() if p.is_file())
    started = time.perf_counter()

    def load(path: Path):
        raw = open_raw(path.read_bytes(), path.name)
        kind = classify(raw)[0]
        if kind == CRIME:
            return kind, parse_crime(raw)
        if kind == WEATHER:
            return kind, parse_weather(raw)
        return kind, None

    # Files are independent and pyarrow releases the GIL: parse them on both cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        loaded = list(pool.map(load, files))
    parsed_at = time.perf_counter()
    crimes = [p for kind, p in loaded if kind == CRIME]
    series = [s for kind, p in loaded if kind == WEATHER for s in p.series]
    # The later file wins the months both cover, as in the platform (sorted name = landing order here).
    months_of_file = {id(parsed): [] for parsed in crimes}
    winner = {}
    for parsed in crimes:
        for month in parsed.months:
            winner[month] = parsed
    for month, parsed in sorted(winner.items()):
        months_of_file[id(parsed)].append(month)
    # The same calls as the assets: one pass per file for crime, one for weather, one for features.
    crime, problems = {}, {}
    for parsed in crimes:
        tables = crime_partitions(parsed, months_of_file[id(parsed)], max_bad_share=0.01)
        crime.update(tables.frames)
        problems.update(tables.problems)
    weather, _ = weather_partitions(series, sorted(winner), DEFAULT_WEATHER_PRIORITY)
    features = feature_partitions(crime, weather.frames, sorted(winner))
    problems.update(weather.problems)
    problems.update(features.problems)
    events_used = sum(len(frame) for frame in crime.values())
    wall = time.perf_counter() - started
    rows = sum(p.rows_read for p in crimes)
    return {
        "files": len(files),
        "crime_files": len(crimes),
        "rows": rows,
        "months": len(winner),
        "events": events_used,
        "feature_rows": sum(len(f) for f in features.frames.values()),
        "failing": len(problems),
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
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "raw")
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
