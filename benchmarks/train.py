"""Retrain speed and the answer to the project's question, on all shared data, in process.

Ingests every shared file (same code as the assets), runs the default search (both with and without
weather) tracked in a temporary MLflow, and prints trials per minute, wall time and the test scores
beside the baselines. --update-readme rewrites the README's results table from these figures.

    .venv/bin/python benchmarks/train.py [--data ../shared/data/raw] [--update-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from crime_weather.core.settings import get_settings
from crime_weather.modeling.split import temporal_split
from crime_weather.modeling.tracking import client_for, experiment_id, run
from crime_weather.modeling.train import SearchBudget, train_challenger
from harness.shared_data import SHARED_RAW, daily_features

ROOT = Path(__file__).resolve().parents[1]

START, END = "<!-- results:start -->", "<!-- results:end -->"


def table(
    metrics: dict[str, float], split, trials: dict[str, int], seconds: float, importance: dict[str, float]
) -> str:
    def row(name: str, deviance: float, note: str) -> str:
        return f"| {name} | {deviance:.4f} | {note} |"

    gain = 1 - metrics["test_poisson_deviance"] / metrics["no_weather_test_poisson_deviance"]
    weather = {name: value for name, value in importance.items() if name not in ("date", "comuna")}
    strongest = max(weather, key=weather.get)
    if gain > 0.01:
        verdict = (
            f"Weather **helps**: it lowers the test deviance by {gain:.1%} against the same model without it."
        )
    elif gain >= -0.01:
        verdict = f"Weather adds **almost nothing**: {gain:+.1%} in test deviance against the same model without it."
    else:
        verdict = (
            f"Weather **does not help**: the model with weather is {-gain:.1%} worse on the test months than the same "
            "model without it (it fits weather noise that does not carry over)."
        )
    verdict += (
        f" Comuna and the calendar carry the signal (permutation importance {importance['comuna']:.2f} and "
        f"{importance['date']:.2f}); the strongest weather variable, {strongest}, scores {weather[strongest]:.3f}."
        " Both beat the comuna x weekday baseline, so the model is useful; the weather is not what makes it so."
    )
    return "\n".join(
        [
            f"Test months {split.test_months[0]}..{split.test_months[-1]} ({len(split.test):,} comuna-days), "
            f"trained on {split.train_months[0]}..{split.train_months[-1]}; "
            f"{trials['weather']} + {trials['no_weather']} Optuna trials in {seconds:.0f} s "
            f"(`benchmarks/train.py --update-readme`, {dt.date.today():%Y-%m-%d}).",
            "",
            "| model | test mean Poisson deviance | |",
            "|---|---|---|",
            row("gradient boosting with weather (the champion's family)", metrics["test_poisson_deviance"],
                f"MAE {metrics['test_mae']:.2f}, RMSE {metrics['test_rmse']:.2f} robberies/comuna-day"),
            row("same search without weather", metrics["no_weather_test_poisson_deviance"], "calendar + comuna only"),
            row("mean per comuna and weekday", metrics["baseline_test_poisson_deviance"], "training-period means"),
            "",
            verdict,
        ]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED_RAW)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    started = time.perf_counter()
    frames = daily_features(args.data, settings.weather_priority)
    split = temporal_split(frames, settings.test_months)
    ingested = time.perf_counter()
    budget = SearchBudget(
        settings.search_trials, settings.search_timeout_seconds, settings.cv_splits, settings.seed
    )
    with tempfile.TemporaryDirectory() as folder:
        client = client_for(f"sqlite:///{folder}/mlflow.db")
        experiment = experiment_id(client, "benchmark", Path(folder, "artifacts").as_uri())
        with run(client, experiment, "benchmark") as parent:
            report = train_challenger(
                split, budget, parent, registered_model="benchmark", dagster_run_id="benchmark"
            )
    wall = time.perf_counter() - started
    trials = sum(report.trials.values())
    m = report.metrics
    print(
        f"features: {len(split.train):,} train rows, {len(split.test):,} test rows ({ingested - started:.1f} s)"
    )
    print(
        f"search: {trials} trials in {report.search_seconds:.0f} s -> {60 * trials / report.search_seconds:.1f} trials/min"
    )
    print(f"wall time (ingest + search + log + register): {wall:.0f} s (goal < 300 s)")
    for name in (
        "test_poisson_deviance",
        "no_weather_test_poisson_deviance",
        "baseline_test_poisson_deviance",
    ):
        print(f"{name}: {m[name]:.4f}")
    print(
        f"test_mae: {m['test_mae']:.3f}  test_rmse: {m['test_rmse']:.3f}  weather gain: {100 * report.weather_gain:+.2f}%"
    )
    print(
        "permutation importance:",
        {k: round(v, 4) for k, v in sorted(report.importance.items(), key=lambda kv: -kv[1])},
    )
    if args.update_readme:
        readme = ROOT / "README.md"
        text = readme.read_text()
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        summary = table(m, split, report.trials, report.search_seconds, report.importance)
        readme.write_text(f"{before}{START}\n{summary}\n{END}{after}")
        print(f"updated {readme}")


if __name__ == "__main__":
    main()
