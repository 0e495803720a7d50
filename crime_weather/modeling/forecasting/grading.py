"""The verdicts on the serving champion's graded claims, and the live scores logged on its MLflow run.

Only the champion's outlook rows of at least a week of comuna-days are judged: a forecast row is one
issue x one lead day, 15 comuna-days, too few for a coverage to mean anything, and no naive level is
issued with it; the day or two an outlook reaches into a seventh calendar month are as few. Bands: the 80 %
interval should hold about 80 % of the counts (0.70..0.90 tolerated) and the claims should sum to the
observed total within 15 %.
"""

from __future__ import annotations

import time

import pandas as pd
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from crime_weather.modeling.forecasting.scorecard import OUTLOOK

COVERAGE_80_BAND = (0.70, 0.90)
PRED_OVER_OBS_BAND = (0.85, 1.15)
LIVE_FIELDS = ("poisson_deviance", "pred_over_obs", "coverage_80")
MIN_JUDGED_ROWS = 7 * 15  # a week of the 15 comunas


def champion_rows(scorecard: pd.DataFrame, version: str | None) -> pd.DataFrame:
    """The rows of `version`'s outlook large enough to judge, by horizon."""
    if version is None:
        return scorecard.iloc[:0]
    mine = (scorecard["source"] == OUTLOOK) & (scorecard["model_version"] == str(version))
    rows = scorecard[mine & (scorecard["n"] >= MIN_JUDGED_ROWS)]
    return rows.sort_values("horizon")


def _where(row: pd.Series) -> str:
    return f"v{row['model_version']} on {row['month']}, horizon month {row['horizon']} (n={row['n']})"


def calibration_failures(scorecard: pd.DataFrame, version: str | None) -> list[str]:
    """Why `version`'s claims on the month are not calibrated, one line per horizon; [] when they are."""
    failures = []
    for _, row in champion_rows(scorecard, version).iterrows():
        coverage, ratio = row["coverage_80"], row["pred_over_obs"]
        problems = []
        if not COVERAGE_80_BAND[0] <= coverage <= COVERAGE_80_BAND[1]:
            problems.append(
                f"80 % coverage {coverage:.3f} outside [{COVERAGE_80_BAND[0]}, {COVERAGE_80_BAND[1]}]"
            )
        if not PRED_OVER_OBS_BAND[0] <= ratio <= PRED_OVER_OBS_BAND[1]:
            problems.append(
                f"predicted/observed {ratio:.3f} outside [{PRED_OVER_OBS_BAND[0]}, {PRED_OVER_OBS_BAND[1]}]"
            )
        if problems:
            failures.append(f"{_where(row)}: {'; '.join(problems)}")
    return failures


def naive_failures(scorecard: pd.DataFrame, version: str | None) -> list[str]:
    """Where `version`'s deviance is above the best naive level issued with it; [] when it beats them."""
    failures = []
    for _, row in champion_rows(scorecard, version).iterrows():
        model, naive = row["poisson_deviance"], row["best_naive_poisson_deviance"]
        if pd.notna(naive) and model > naive:
            failures.append(
                f"{_where(row)}: Poisson deviance {model:.4f} above {row['best_naive']} {naive:.4f}"
            )
    return failures


def live_metrics(scorecard: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per outlook version, live_h{h}_<field> for each horizon month scored."""
    metrics: dict[str, dict[str, float]] = {}
    for _, row in scorecard[scorecard["source"] == OUTLOOK].iterrows():
        values = metrics.setdefault(str(row["model_version"]), {})
        for field in LIVE_FIELDS:
            if pd.notna(row[field]):
                values[f"live_h{row['horizon']}_{field}"] = float(row[field])
    return metrics


def month_step(month: str) -> int:
    """The metric step of a scored month (YYYYMM), so each metric's history runs month by month."""
    return int(month.replace("-", ""))


def log_live_metrics(
    client: MlflowClient, registered_model: str, scorecard: pd.DataFrame, month: str
) -> dict[str, str]:
    """Logs live_* on each scored version's training run (step: the month); returns version -> run id.
    A version no longer in the registry is skipped."""
    logged = {}
    now = int(time.time() * 1000)
    for version, values in live_metrics(scorecard).items():
        try:
            run_id = client.get_model_version(registered_model, version).run_id
        except MlflowException:
            continue
        items = [Metric(key, value, now, month_step(month)) for key, value in values.items()]
        client.log_batch(run_id, metrics=items)
        logged[version] = run_id
    return logged
