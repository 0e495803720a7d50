"""`make run` from a fresh home with the shared data as mirror: how long until every month is
materialized, and until the API serves a champion. Prints both figures, then stops the platform.

    .venv/bin/python benchmarks/make_run.py [--data ../shared/data/raw] [--timeout 900]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from _api import champion_served

from harness.processes import clean_environment

ROOT = Path(__file__).resolve().parents[1]


def expected_months(landing: Path) -> int:
    from crime_weather.core.storage import LocalStore
    from crime_weather.sources.catalog import crime_winners, describe

    store = LocalStore(landing)
    return len(crime_winners(describe(info, store.read(info.key)) for info in store.list()))


def measure(data: Path, timeout: float, until_champion: bool = True) -> dict[str, float | None]:
    """Seconds from `make run` to every month materialized and to a champion served."""
    figures: dict[str, float | None] = {"months": None, "champion": None}
    with tempfile.TemporaryDirectory() as home:
        env = clean_environment()
        env.update(CRIME_WEATHER_HOME=home, CRIME_WEATHER_SOURCE=str(data))
        started = time.perf_counter()
        make = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            months = None
            while time.perf_counter() - started < timeout and make.poll() is None:
                elapsed = time.perf_counter() - started
                landing = Path(home, "landing")
                if months is None and landing.is_dir() and any(landing.iterdir()):
                    months = expected_months(landing)
                done = len(list(Path(home, "warehouse", "daily_features").glob("*.parquet")))
                if figures["months"] is None and months and done >= months:
                    figures["months"] = elapsed
                if figures["champion"] is None and champion_served("http://127.0.0.1:8800"):
                    figures["champion"] = elapsed
                if figures["months"] is not None and (figures["champion"] is not None or not until_champion):
                    break
                time.sleep(1)
        finally:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=90)
    return figures


def report(figures: dict[str, float | None], timeout: float) -> None:
    def text(value: float | None) -> str:
        return f"{value:.0f} s" if value is not None else f"not within {timeout:.0f} s"

    print(f"make run -> every month materialized: {text(figures['months'])} (goal < 180 s)")
    if "champion" in figures:
        print(f"make run -> API serving a champion: {text(figures['champion'])} (goal < 480 s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "raw")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    report(measure(args.data, args.timeout), args.timeout)


if __name__ == "__main__":
    main()
