"""The model on all shared data, trained as a retrain trains it, in process; its figures and times.

Ingests every shared file (the assets' code), then runs with the default settings, into a temporary
MLflow, what a retrain runs: the challenger (search, backtest arms, fixed window, refit, logging,
registration), then the contest against a champion of another configuration (the model study's tuned
model of the other family, registered first and not timed) and, when that configuration holds, its
refit. Prints the naive-window table, the backtest and fixed-window figures with 95 % CIs (folds,
i.e. months, resampled), pred/obs per fold, the scores at every horizon (days 1..7 and months 1..6
after each origin) beside the naive levels with the CI of model - best naive, the weather verdict,
stage times, trials per minute and whether the targets are met.
--update-readme rewrites the README's results section from these figures.

    .venv/bin/python benchmarks/backtest.py [--data ../shared/data/raw] [--update-readme]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from crime_weather.core.settings import IngestionSettings, TrainingSettings
from crime_weather.modeling.estimation.config import DEFAULT_GLM, DEFAULT_HGB, HGB
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_name
from crime_weather.modeling.registry.tracking import RunLog, client_for, experiment_id, run
from crime_weather.modeling.registry.versions import TAG_FINGERPRINT
from crime_weather.modeling.selection.backtest import MODEL, NO_WEATHER
from crime_weather.modeling.selection.bootstrap import (
    Difference,
    Ratio,
    day_block_difference,
    paired_difference,
)
from crime_weather.modeling.selection.contest import hold_contest
from crime_weather.modeling.selection.evaluation import weather_verdict
from crime_weather.modeling.selection.horizons import predict_horizons
from crime_weather.modeling.selection.promotion import Action, decide
from crime_weather.modeling.selection.split import temporal_split
from crime_weather.modeling.selection.train import (
    ChallengerReport,
    Stages,
    Trained,
    TrainingData,
    train_challenger,
    train_configuration,
)
from harness.shared_data import SHARED_RAW, daily_features

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"
NAME = "benchmark"
TARGETS = {"backtest": 1.30, "fixed": 1.33, "pred_obs": 0.05, "fold_pred_obs": 0.08, "retrain_s": 300.0}


@dataclass
class Contested:
    champion: str  # the other configuration's label
    comparison: Difference | None
    decision: str
    seconds: float  # the contest, plus the refit of the champion's configuration if it held


def contest(report: ChallengerReport, training: TrainingData, parent: RunLog, seed: int) -> Contested:
    """Register the other family's study configuration as the champion (untimed), then time what
    champion_model does against it."""
    client = parent.client
    other = DEFAULT_GLM if report.trained.config.family == HGB else DEFAULT_HGB
    with run(client, parent.experiment_id, "previous champion") as previous, threadpool_limits(limits=1):
        old = train_configuration(
            other, training, previous, Stages(), registered_model=NAME, dagster_run_id=NAME, seed=seed
        )
    # As if it had been trained on older data: the contest, and its refit when it holds, are timed.
    client.set_model_version_tag(NAME, old.version, TAG_FINGERPRINT, "older data")
    champion, challenger = (client.get_model_version(NAME, v) for v in (old.version, report.trained.version))
    started = time.monotonic()
    with threadpool_limits(limits=1):
        held = hold_contest(client, challenger, champion, training, seed)
        decision = decide(held)
        if decision.action is Action.REFIT_CHAMPION:
            with run(client, parent.experiment_id, "champion refresh") as refresh:
                train_configuration(
                    other, training, refresh, Stages(), registered_model=NAME, dagster_run_id=NAME, seed=seed
                )
    outcome = f"the challenger {decision.label}: {decision.action.value}"
    return Contested(other.label, held.comparison, outcome, time.monotonic() - started)


def fixed_differences(trained: Trained, seed: int) -> tuple[str, Difference, Difference]:
    """The fixed window's best naive level, model - it, and the weather gain, with their CIs."""
    frame = trained.fixed.frame
    best = min(
        (naive_name(w) for w in NAIVE_WINDOWS),
        key=lambda name: trained.metrics[f"test_{name}_poisson_deviance"],
    )
    return (
        best,
        paired_difference(frame, MODEL, best, seed=seed),
        paired_difference(frame, NO_WEATHER, MODEL, seed=seed),
    )


def naive_table(trained: Trained) -> list[str]:
    m = trained.metrics
    lines = ["| naive level: comuna x weekday mean over | fixed window | backtest |", "|---|---|---|"]
    for window in NAIVE_WINDOWS:
        name = naive_name(window)
        label = f"{window} days before the origin" if window else "all history (the training mean)"
        bold = "**" if name == trained.backtest.best_naive else ""
        lines.append(
            f"| {label} | {m[f'test_{name}_poisson_deviance']:.4f} | {bold}{m[f'backtest_{name}_poisson_deviance']:.4f}{bold} |"
        )
    return lines


def _ratio(row, name: str) -> Ratio:
    return Ratio(getattr(row, name), getattr(row, f"{name}_ci_low"), getattr(row, f"{name}_ci_high"))


def horizon_lines(trained: Trained) -> list[str]:
    """Per horizon: the model's scores (pred/obs and coverage with their 95 % CIs), the best naive
    level frozen at the same origin, and model - it with its 95 % CI (origins resampled); then every
    arm's deviance."""
    table = trained.backtest.horizons
    lines = [
        "| horizon | origins | deviance | MAE | pred/obs | coverage 80 % | coverage 95 % | best naive | its deviance | model - best naive, 95 % CI |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        versus = Difference(row.minus_best_naive, row.minus_best_naive_ci_low, row.minus_best_naive_ci_high)
        lines.append(
            f"| {row.horizon} | {row.origins} | {row.poisson_deviance:.4f} | {row.mae:.2f} | {_ratio(row, 'pred_over_obs')} "
            f"| {_ratio(row, 'coverage_80')} | {_ratio(row, 'coverage_95')} | {row.best_naive} | {row.best_naive_poisson_deviance:.4f} | {versus} |"
        )
    arms = ["no_weather", *(naive_name(w) for w in NAIVE_WINDOWS)]
    lines += ["", "| horizon | model | " + " | ".join(arms) + " |", "|---" * (len(arms) + 2) + "|"]
    for _, row in table.iterrows():
        values = " | ".join(f"{row[f'{arm}_poisson_deviance']:.4f}" for arm in arms)
        lines.append(f"| {row['horizon']} | {row['poisson_deviance']:.4f} | {values} |")
    return lines  # fmt: skip


def fold_lines(trained: Trained) -> list[str]:
    folds = trained.backtest.folds
    header = "| " + " | ".join(folds["month"]) + " |"
    return [
        "| fold | " + header[2:],
        "|---" * (len(folds) + 1) + "|",
        "| pred/obs | " + " | ".join(f"{v:.3f}" for v in folds["pred_over_obs"]) + " |",
        "| deviance | " + " | ".join(f"{v:.3f}" for v in folds["model_deviance"]) + " |",
    ]


def _band(table, name: str, low: float, high: float) -> tuple[str, str]:
    """(verdict, what was measured) of a band every horizon's `name` should lie in: "yes" when every
    estimate is inside, "no" when some CI lies entirely outside, else "undecided" (an estimate is
    outside but its CI reaches the band: a miss inside the noise of the months is not a verdict)."""
    outside = [row for row in table.itertuples() if not low <= getattr(row, name) <= high]
    beyond = [row for row in outside if _ratio(row, name).misses(low, high)]
    verdict = "no" if beyond else "undecided" if outside else "yes"
    measured = ", ".join(f"h{row.h} {_ratio(row, name)}" for row in outside)
    return verdict, "all within" if not outside else f"outside: {measured}"


def horizon_targets(trained: Trained) -> list[tuple[str, str, str]]:
    """The multi-horizon targets (issue 18), month horizons 1..6."""
    table = trained.backtest.horizons
    months = table[table["unit"] == "month"]
    naive = [f"{naive_name(w)}_poisson_deviance" for w in NAIVE_WINDOWS]
    beaten = [
        f"h{row.h}" for _, row in months.iterrows() if row["poisson_deviance"] < min(row[n] for n in naive)
    ]
    claimed = [f"h{row.h}" for row in months.itertuples() if row.minus_best_naive_ci_high < 0]
    near, far = months[months["h"] <= 3], months
    checks = [
        ("pred/obs within +-5 % for h <= 3", _band(near, "pred_over_obs", 0.95, 1.05)),
        ("pred/obs within +-8 % for h <= 6", _band(far, "pred_over_obs", 0.92, 1.08)),
        ("coverage 80 % within [0.77, 0.83] at every h", _band(far, "coverage_80", 0.77, 0.83)),
        ("coverage 95 % within [0.93, 0.97] at every h", _band(far, "coverage_95", 0.93, 0.97)),
    ]
    h1 = float(months.loc[months["h"] == 1, "poisson_deviance"].iloc[0])
    return [
        ("deviance below every naive level at every h", _met(len(beaten) == len(months)), f"below at {', '.join(beaten) or 'none'}; CI excludes 0 at {', '.join(claimed) or 'none'}"),
        *((name, verdict, measured) for name, (verdict, measured) in checks),
        ("h = 1 deviance <= 1.28", _met(h1 <= 1.28), f"{h1:.4f}"),
    ]  # fmt: skip


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def calibration_lines(trained: Trained) -> list[str]:
    calibration = trained.backtest.calibration
    horizons = range(1, len(calibration.factors) + 1)
    return [
        "| month horizon | " + " | ".join(str(h) for h in horizons) + " |",
        "|---" * (len(calibration.factors) + 1) + "|",
        "| level factor | " + " | ".join(f"{f:.3f}" for f in calibration.factors) + " |",
        "| seasonal step carried | " + " | ".join(f"{c:.3f}" for c in calibration.seasonal) + " |",
        "| interval dispersion (NB alpha) | " + " | ".join(f"{a:.3f}" for a in calibration.dispersion) + " |",
    ]


def carry_ablation(trained: Trained, training: TrainingData, seed: int) -> str:
    """The backtest's month horizons predicted again without the seasonal carry (the rest of the
    calibration kept): model - that, per horizon, with its 95 % CI (months resampled)."""
    frame, calibration = trained.backtest.horizon_frame, trained.backtest.calibration
    if not any(calibration.seasonal):
        return f"No seasonal step was carried{_slope(calibration)} (its CI reaches 0): nothing to compare."
    origins = list(frame["origin"].unique())
    without = dataclasses.replace(calibration, seasonal=())
    with threadpool_limits(limits=1):
        frame = frame.assign(
            without=predict_horizons(trained.config, training.data, origins, seed, calibration=without)[0]
        )
    differences = ", ".join(
        f"h{h} {paired_difference(frame[frame['horizon'] == h], MODEL, 'without', seed=seed)}"
        for h in sorted(frame["horizon"].unique())
        if h > 1
    )
    return (
        f"**The seasonal carry** ({calibration.seasonal[0]:.3f} of the step{_slope(calibration)}): the "
        f"backtest's deviance with it minus without it (the same fits otherwise), 95 % CI: {differences}."
    )


def _slope(calibration) -> str:
    if not calibration.seasonal_evidence:
        return ""
    estimate, low, high = calibration.seasonal_evidence
    return f"; the slope on the calibration origins {estimate:.3f} [{low:.3f}, {high:.3f}]"


def targets(trained: Trained, retrain_s: float) -> list[tuple[str, str, str]]:
    m, ratios = trained.metrics, trained.backtest.folds["pred_over_obs"]
    worst = ratios.iloc[int((ratios - 1).abs().argmax())]
    misses = [
        f"{month} {r:.3f}"
        for month, r in zip(trained.backtest.folds["month"], ratios, strict=True)
        if abs(r - 1) > 0.08
    ]
    return [
        ("backtest mean deviance <= 1.30", _met(m["backtest_poisson_deviance"] <= TARGETS["backtest"]), f"{m['backtest_poisson_deviance']:.4f}"),
        ("fixed-window deviance <= 1.33", _met(m["test_poisson_deviance"] <= TARGETS["fixed"]), f"{m['test_poisson_deviance']:.4f}"),
        ("overall pred/obs within +-5 %", _met(abs(m["backtest_pred_over_obs"] - 1) <= 0.05), f"{m['backtest_pred_over_obs']:.3f}"),
        ("each fold's pred/obs within +-8 %", _met(not misses), f"worst {worst:.3f}" + (f"; outside: {', '.join(misses)}" if misses else "")),
        ("retrain <= 5 min", _met(retrain_s <= TARGETS["retrain_s"]), f"{retrain_s:.0f} s"),
        *horizon_targets(trained),
    ]  # fmt: skip


def summary(
    report: ChallengerReport,
    contested: Contested,
    retrain_s: float,
    data_months: list[str],
    training: TrainingData,
    seed: int,
) -> str:
    trained = report.trained
    m, backtest = trained.metrics, trained.backtest
    fixed_naive, fixed_versus, fixed_gain = fixed_differences(trained, seed)
    gain = backtest.weather_gain
    by_day = day_block_difference(backtest.frame, MODEL, backtest.best_naive, seed=seed)
    stages = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in report.stages.seconds.items())
    test_months = report.trained.tags["test_months"].strip("[]").replace('"', "").split(", ")
    lines = [
        f"Measured by `benchmarks/backtest.py --update-readme` on {dt.date.today():%Y-%m-%d}: the shared data "
        f"(`../shared/data/raw`, {len(data_months)} months {data_months[0]}..{data_months[-1]}), default settings, "
        f"in process on this machine (2 cores; load average {os.getloadavg()[0]:.1f} at the end), one thread per fit.",
        "",
        f"**The challenger** (what the search chose; the figures below are its own, and the contest at "
        f"the end says whether it is served): {trained.config.label}, "
        f"`{ {k: round(v, 4) if isinstance(v, float) else v for k, v in trained.config.params.items()} }`.",
        "",
        "| | mean Poisson deviance | 95 % CI (paired, whole months resampled) |",
        "|---|---|---|",
        f"| backtest, {len(backtest.months)} monthly folds {backtest.months[0]}..{backtest.months[-1]} | **{m['backtest_poisson_deviance']:.4f}** | model - best naive ({backtest.best_naive}): {backtest.versus_best_naive} |",
        f"| same, without weather (same hyperparameters) | {m['backtest_no_weather_poisson_deviance']:.4f} | weather gain (no weather - weather): {gain} |",
        f"| fixed window {test_months[0]}..{test_months[-1]} (trained before it) | **{m['test_poisson_deviance']:.4f}** | model - best naive ({fixed_naive}): {fixed_versus} |",
        f"| same, without weather | {m['no_weather_test_poisson_deviance']:.4f} | weather gain: {fixed_gain} |",
        "",
        f"Backtest pred/obs {m['backtest_pred_over_obs']:.3f} overall; MAE {m['backtest_mae']:.2f} robberies per comuna-day; "
        f"interval coverage (calibrated per horizon) 80 %: {m['backtest_coverage_80']:.3f}, 95 %: {m['backtest_coverage_95']:.3f}.",
        "",
        f"Resampling days within months instead (the noise inside the months only) would give model - best naive {by_day}.",
        "",
        *fold_lines(trained),
        "",
        "**Every horizon** (one fit per origin; month h = the h-th month from the origin's, h = 1 the fold month; "
        "day d = the origin + d - 1 days; naive levels frozen at the origin; horizons past the data absent):",
        "",
        *horizon_lines(trained),
        "",
        "**Per-horizon calibration** (fitted on the 12 month origins before the backtest's first, their months "
        "before it: never a backtest month; the level factor is off (calibration.LEVEL_CORRECTION); "
        "the dispersion makes the 80 %/95 % intervals cover those rows at nominal):",
        "",
        *calibration_lines(trained),
        "",
        carry_ablation(trained, training, seed),
        "",
        *naive_table(trained),
        "",
        f"**Does weather help?** {weather_verdict(gain).capitalize()}: over the backtest the same model without weather "
        f"scores {gain.estimate:+.4f} deviance per comuna-day against it, 95 % CI [{gain.low:+.4f}, {gain.high:+.4f}]"
        f"{' (includes 0)' if not gain.excludes_zero else ''}. The level and the calendar carry the prediction.",
        "",
        f"**Retrain**: {retrain_s:.0f} s in all: the challenger {sum(report.stages.seconds.values()):.0f} s ({stages}; "
        f"{report.search.trials} trials at {report.search.trials_per_minute:.1f}/min), then the contest against a "
        f"champion of another configuration, the study's {contested.champion}, with the refit of the winner: "
        f"{contested.seconds:.0f} s. Challenger - that champion on the backtest folds: {contested.comparison} "
        f"({contested.decision}).",
        "",
        "| target | met | measured |",
        "|---|---|---|",
        *(f"| {name} | {verdict} | {value} |" for name, verdict, value in targets(trained, retrain_s)),
    ]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED_RAW)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    budget = TrainingSettings()
    started = time.perf_counter()
    frames = daily_features(args.data, IngestionSettings().weather_priority)
    split = temporal_split(frames, budget.test_months)
    print(f"ingest: {len(frames)} months in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        client = client_for(f"sqlite:///{folder}/mlflow.db")
        experiment = experiment_id(client, NAME, Path(folder, "artifacts").as_uri())
        with run(client, experiment, "challenger") as parent:
            retrain_started = time.perf_counter()
            report = train_challenger(split, budget, parent, registered_model=NAME, dagster_run_id=NAME)
            challenger_s = time.perf_counter() - retrain_started
        training = TrainingData.of(split, budget)
        with run(client, experiment, "contest") as parent:
            contested = contest(report, training, parent, budget.seed)
    retrain_s = challenger_s + contested.seconds
    text = summary(report, contested, retrain_s, sorted(frames), training, budget.seed)
    print(text)
    if args.update_readme:
        readme = ROOT / "README.md"
        before, rest = readme.read_text().split(START, 1)
        _, after = rest.split(END, 1)
        readme.write_text(f"{before}{START}\n{text}\n{END}{after}")
        print(f"updated {readme}")


if __name__ == "__main__":
    main()
