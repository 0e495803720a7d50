"""Replay the shared crime history through the real platform, a month at a time, and print how the
platform graded its own claims as each month's truth arrived.

`crime-weather run` (daemon, sensors, MLflow server, API) in a fresh home starts with the crime data
up to the month before `--first` and all the weather. Then, month by month, the next month's crime
file lands in the landing zone (the official file's rows of that month, as published) and the script
waits for what the platform does on its own: the ingest, the scorecard of the month (the claims of
the champion's outlook against the counts that landed), the retrain and its champion decision, and the
API serving the decision. Per month it prints the seconds from landing to champion served and to
scorecard, the serving champion's horizon, deviance, predicted/observed and 80 % coverage against the
best naive level issued with it, and which WARN checks fired.

`--planted MONTH` keeps a random 70 % of that month's robberies (seeded): its counts are scaled by 0.7,
so `calibrated` must fire on that month and stay quiet on the others. At the end, each month's live
h = 1 deviance is set beside the multi-horizon backtest's h = 1 deviance for the same month, read from
the last champion's run (the same procedure: a model fitted on the data before the month).

    .venv/bin/python benchmarks/replay.py [--data ../shared/data/raw] [--first 2019-09] [--months 6]
        [--planted 2019-11] [--search-trials 10] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import numpy as np
import pandas as pd
from _api import champion_served
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient

from crime_weather.core.names import SCORECARD_TABLE, TARGET
from crime_weather.core.settings import PlatformSettings
from crime_weather.modeling.estimation.metrics import unit_deviance
from crime_weather.modeling.selection.backtest import MODEL
from crime_weather.modeling.selection.train import HORIZON_PREDICTIONS
from crime_weather.orchestration.jobs import STAGE_TAG, TRAIN_STAGE
from harness.processes import clean_environment, free_port

ROOT = Path(__file__).resolve().parents[1]
CRIME_FILE = "caba_robos_2017_2020feb_rafzamb.csv.gz"  # the official robberies, 2017-01..2020-02
NOT_LANDED = {CRIME_FILE, "caba_robos_2017_2020feb_rafzamb.rds"}  # the .rds is the same data
PLANTED_SHARE = 0.7
T = TypeVar("T")


@dataclass
class Month:
    """What the platform did with one landed month, and when (seconds from landing)."""

    month: str
    champion_before: str
    decision_s: float | None = None
    served_s: float | None = None
    scored_s: float | None = None
    champion_after: str = ""
    horizon: int | None = None
    deviance: float | None = None
    pred_over_obs: float | None = None
    coverage_80: float | None = None
    best_naive: str = ""
    naive_deviance: float | None = None
    fired: str = ""
    backtest_h1: float | None = None


class Replay:
    """The platform of one fresh home and what it has done so far."""

    def __init__(self, home: Path, data: Path, env: dict[str, str]) -> None:
        # Ports of their own: a `make run` (or the test suite's) may hold the default ones.
        ports = {"dagster_port": free_port(), "mlflow_port": free_port()}
        self.api = f"http://127.0.0.1:{free_port()}"
        env.update({f"CRIME_WEATHER_{name.upper()}": str(port) for name, port in ports.items()})
        env["CRIME_WEATHER_API_PORT"] = self.api.rsplit(":", 1)[1]
        self.home, self.data, self.env = home, data, env
        self.settings = PlatformSettings(home=home, **ports)  # type: ignore[call-arg]
        self.landing = Path(self.settings.landing)
        self.warehouse = Path(self.settings.warehouse)
        self.process: subprocess.Popen[bytes] | None = None

    # --- the platform -----------------------------------------------------------------------------

    def start(self) -> None:
        log = (self.home / "replay-platform.log").open("wb")
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "crime-weather"), "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=120)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.settings.dagster_home))

    def mlflow(self) -> MlflowClient:
        uri = self.settings.mlflow_server_url
        return MlflowClient(uri, uri)

    def registry_champion(self) -> str | None:
        try:
            model = self.settings.registered_model
            return self.mlflow().get_model_version_by_alias(model, "champion").version
        except Exception:  # no champion yet, or the server still starting
            return None

    def served(self) -> str | None:
        return champion_served(self.api)

    def outlook_stored(self, version: str) -> bool:
        return (self.warehouse / "champion_outlook" / f"{version}.parquet").exists()

    def train_runs_finished_since(self, since: float) -> list[dg.DagsterRun]:
        with self.instance() as instance:
            records = instance.get_run_records(dg.RunsFilter(tags={STAGE_TAG: TRAIN_STAGE}))
        return [
            r.dagster_run
            for r in records
            if r.create_timestamp.timestamp() >= since and r.dagster_run.is_finished
        ]

    def scored_since(self, month: str, since: float) -> dg.EventLogEntry | None:
        """The month's latest scorecard materialization, if it came after `since` (epoch seconds)."""
        with self.instance() as instance:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(SCORECARD_TABLE), asset_partitions=[month]),
                limit=1,
            ).records
        return records[0].event_log_entry if records and records[0].timestamp >= since else None

    def fired_checks(self, run_id: str) -> list[str]:
        with self.instance() as instance:
            logs = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        return [
            f"{e.check_name}: {e.description}"
            for entry in logs
            if entry.dagster_event is not None
            and not (e := entry.dagster_event.event_specific_data).passed
            and e.severity == dg.AssetCheckSeverity.WARN
        ]

    # --- the data ----------------------------------------------------------------------------------

    def crime_rows(self) -> pd.DataFrame:
        return pd.read_csv(self.data / CRIME_FILE, dtype=str, keep_default_na=False)

    def land(self, rows: pd.DataFrame, name: str) -> None:
        """Write `rows` (the official layout, values untouched) as a gzipped CSV into the landing zone."""
        staged = self.home / f".{name}"
        with gzip.open(staged, "wt", encoding="utf-8", newline="") as file:
            rows.to_csv(file, index=False)
        staged.replace(self.landing / name)  # one rename: the sensor never sees half a file

    def land_history(self, crime: pd.DataFrame, first: str) -> None:
        self.landing.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.data.iterdir()):
            if path.is_file() and path.name not in NOT_LANDED:
                shutil.copyfile(path, self.landing / path.name)
        before = crime[crime["fecha"].str[:7] < first]
        self.land(before, f"robos_hasta_{first.replace('-', '_')}.csv.gz")


def wait(condition: Callable[[], T], timeout: float, what: str, every: float = 2.0) -> T:
    """The first truthy value of `condition()`, polled every `every` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise TimeoutError(f"not {what} within {timeout:.0f} s")


def planted(rows: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A random 70 % of the month's rows: its robbery counts scaled by about 0.7."""
    keep = np.random.default_rng(seed).random(len(rows)) < PLANTED_SHARE
    return rows[keep]


def replay_month(replay: Replay, crime: pd.DataFrame, month: str, plant: bool, timeout: float) -> Month:
    """Land `month`, wait for its scorecard and its champion decision, read what the platform said."""
    champion = replay.served() or ""
    result = Month(month, champion)
    rows = crime[crime["fecha"].str[:7] == month]
    landed = time.time()
    replay.land(planted(rows) if plant else rows, f"robos_{month.replace('-', '_')}.csv.gz")
    started = time.monotonic()
    scored = wait(lambda: replay.scored_since(month, landed), timeout, f"{month} scored")
    result.scored_s = time.monotonic() - started
    wait(lambda: replay.train_runs_finished_since(landed), timeout, f"the retrain after {month}")
    result.decision_s = time.monotonic() - started
    after = wait(
        lambda: (v := replay.registry_champion()) and replay.served() == v and v,
        timeout,
        "the champion served",
    )
    result.served_s, result.champion_after = time.monotonic() - started, after
    wait(lambda: replay.outlook_stored(after), timeout, f"v{after}'s outlook")  # the next month's claims
    table = pd.read_parquet(replay.warehouse / SCORECARD_TABLE / f"{month}.parquet")
    mine = table[(table["source"] == "outlook") & (table["model_version"] == champion)]
    if len(mine):
        row = mine.sort_values("horizon").iloc[0]
        result.horizon, result.deviance = int(row["horizon"]), float(row["poisson_deviance"])
        result.pred_over_obs, result.coverage_80 = float(row["pred_over_obs"]), float(row["coverage_80"])
        result.best_naive, result.naive_deviance = (
            str(row["best_naive"]),
            float(row["best_naive_poisson_deviance"]),
        )
    result.fired = "; ".join(replay.fired_checks(scored.run_id)) or "none"
    return result


def backtest_h1(replay: Replay, months: list[str]) -> dict[str, float]:
    """The last champion's multi-horizon backtest, h = 1 deviance per replayed month it scored."""
    client = replay.mlflow()
    version = client.get_model_version_by_alias(replay.settings.registered_model, "champion")
    path = download_artifacts(
        run_id=version.run_id,
        artifact_path=HORIZON_PREDICTIONS,
        tracking_uri=replay.settings.mlflow_server_url,
    )
    frame = pd.read_parquet(path)
    first = frame[(frame["horizon"] == 1) & frame["month"].isin(months)]
    deviance = unit_deviance(first[TARGET].to_numpy(float), first[MODEL].to_numpy(float))
    return first.assign(d=deviance).groupby("month")["d"].mean().to_dict()


def report(results: list[Month], planted_month: str | None) -> None:
    def num(value: float | None, digits: int = 3) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    print(
        "month    | v before -> after | scored s | decision s | served s | h | deviance | backtest h1 "
        "| pred/obs | cov80 | best naive (deviance) | WARN checks fired"
    )
    for r in results:
        mark = " (planted x0.7)" if r.month == planted_month else ""
        print(
            f"{r.month}{mark} | v{r.champion_before} -> v{r.champion_after} | {num(r.scored_s, 0)} | "
            f"{num(r.decision_s, 0)} | {num(r.served_s, 0)} | {r.horizon or '-'} | {num(r.deviance, 4)} | "
            f"{num(r.backtest_h1, 4)} | {num(r.pred_over_obs)} | {num(r.coverage_80)} | "
            f"{r.best_naive or '-'} ({num(r.naive_deviance, 4)}) | {r.fired}"
        )
    calibrated = {r.month for r in results if "calibrated:" in r.fired}
    expected = {planted_month} if planted_month else set()
    print(
        f"calibrated fired on {sorted(calibrated) or 'no month'}; expected {sorted(expected) or 'no month'}: "
        f"{'as expected' if calibrated == expected else 'NOT as expected'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "raw")
    parser.add_argument("--first", default="2019-09", help="the first month landed one at a time")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--planted", default=None, help="a month whose counts are scaled by 0.7")
    parser.add_argument("--search-trials", type=int, default=None, help="CRIME_WEATHER_SEARCH_TRIALS")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for each step")
    args = parser.parse_args()
    months = [str(p) for p in pd.period_range(args.first, periods=args.months, freq="M")]
    with tempfile.TemporaryDirectory(prefix="replay-") as folder:
        home = Path(folder)
        env = clean_environment()
        env.update(
            CRIME_WEATHER_HOME=str(home), CRIME_WEATHER_SOURCE="none", CRIME_WEATHER_FORECAST_SOURCE="none"
        )
        if args.search_trials:
            env["CRIME_WEATHER_SEARCH_TRIALS"] = str(args.search_trials)
        replay = Replay(home, args.data, env)
        crime = replay.crime_rows()
        replay.land_history(crime, months[0])
        replay.start()
        try:
            started = time.monotonic()
            first = wait(
                lambda: (v := replay.served()) and replay.outlook_stored(v) and v, args.timeout, "a champion"
            )
            print(
                f"history to {months[0]} (excluded): champion v{first} served, outlook stored, "
                f"after {time.monotonic() - started:.0f} s"
            )
            results = []
            for month in months:
                results.append(replay_month(replay, crime, month, month == args.planted, args.timeout))
                print(f"{month}: {results[-1]}", flush=True)
            for month, value in backtest_h1(replay, months).items():
                for r in results:
                    if r.month == month:
                        r.backtest_h1 = value
            report(results, args.planted)
        finally:
            replay.stop()


if __name__ == "__main__":
    main()
