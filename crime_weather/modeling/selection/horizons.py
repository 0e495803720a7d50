"""Multi-horizon backtest: the model scored the way the API uses it, at every distance from its data.

The API is asked about any date, and a model trained up to an origin predicts a date h months later
with the level known at the origin. At each backtest origin (the first day of a fold month) one fit per
arm predicts that month and the ones after it: month h is the h-th month counted from the origin's
(h = 1 is the fold month itself, today's backtest), day d is the origin + d - 1 days (the d-th day the
model has no counts for). Naive levels are frozen at the same origin. Target months past the data are
absent, so horizon h is scored on the origins with h months of data left.

A horizon frame has the rows (origin, horizon, month, date, comuna, robberies) with one column of
expected robberies per arm, and the model's interval dispersion per row (DISPERSION: the pipeline's at
the row's horizon, so coverage is of the intervals the API would give); `month` is the target month,
one per origin at each horizon, so the fold bootstrap (modeling.selection.bootstrap) resamples origins.
Horizons are features.horizon.month_horizon, the definition the pipeline itself uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.estimation.intervals import covered
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_level, naive_name
from crime_weather.modeling.estimation.pipeline import build_pipeline, features_of
from crime_weather.modeling.features.horizon import HORIZON_MONTHS, HorizonCalibration, month_horizon
from crime_weather.modeling.selection.backtest import (
    DISPERSION,
    MODEL,
    NO_WEATHER,
    best_naive,
    mean_fold_deviance,
    model_dispersion,
)
from crime_weather.modeling.selection.bootstrap import fold_ratio, paired_difference
from crime_weather.modeling.selection.folds import MonthlyData

HORIZON_DAYS = 7

DAY, MONTH = "day", "month"
METRICS = ("poisson_deviance", "pred_over_obs", "coverage_80", "coverage_95", "best_naive_poisson_deviance")


def shift_month(month: str, months: int) -> str:
    """The YYYY-MM key `months` months after `month`."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def origin_targets(data: MonthlyData, origin: str, months: int = HORIZON_MONTHS) -> list[str]:
    """The months an origin predicts that the data has, in order (h = 1 first)."""
    present = set(data.months)
    return [target for h in range(months) if (target := shift_month(origin, h)) in present]


def horizon_rows(data: MonthlyData, origins: list[str], months: int = HORIZON_MONTHS) -> pd.DataFrame:
    """The rows every origin predicts, origin by origin, each in date and comuna order."""
    parts = []
    for origin in origins:
        for target in origin_targets(data, origin, months):
            rows = data.frame.loc[data.within(target), ["date", "comuna", TARGET]]
            last_day = np.datetime64(f"{origin}-01", "D") - 1  # the data a fit at the origin has
            horizon = month_horizon(rows["date"].to_numpy(), last_day)
            parts.append(rows.assign(origin=origin, horizon=horizon, month=target))
    return pd.concat(parts, ignore_index=True)[["origin", "horizon", "month", "date", "comuna", TARGET]]


def predict_horizons(
    config: ModelConfig,
    data: MonthlyData,
    origins: list[str],
    seed: int,
    months: int = HORIZON_MONTHS,
    calibration: HorizonCalibration | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected robberies of `horizon_rows(data, origins, months)` and their interval dispersion: one
    fit per origin, on every day before it (with `calibration`), predicts all of its months."""
    predictions, dispersion = [], []
    for pipeline, targets in fitted_origins(config, data, origins, seed, months, calibration):
        predictions.append(pipeline.predict(targets))
        dispersion.append(features_of(pipeline).dispersion(targets))
    return np.concatenate(predictions), np.concatenate(dispersion)


def fitted_origins(
    config: ModelConfig,
    data: MonthlyData,
    origins: list[str],
    seed: int,
    months: int = HORIZON_MONTHS,
    calibration: HorizonCalibration | None = None,
) -> Iterator[tuple[Pipeline, pd.DataFrame]]:
    """(the fit at each origin, on every day before it; the inputs of its months), in the order of
    `horizon_rows(data, origins, months)`."""
    for origin in origins:
        train = data.before(origin)
        pipeline = build_pipeline(config, seed, calibration).fit(data.inputs[train], data.y[train])
        yield pipeline, data.inputs[np.isin(data.month, origin_targets(data, origin, months))]


def naive_horizon_columns(data: MonthlyData, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each naive level of `rows` (a horizon frame) as known at the rows' origin."""
    columns = {naive_name(window): np.empty(len(rows)) for window in NAIVE_WINDOWS}
    for origin in rows["origin"].unique():
        mask = (rows["origin"] == origin).to_numpy()
        for window in NAIVE_WINDOWS:
            level = naive_level(data.frame, pd.Timestamp(f"{origin}-01"), window, rows[mask])
            columns[naive_name(window)][mask] = level
    return columns


def horizon_frame(
    config: ModelConfig,
    data: MonthlyData,
    origins: list[str],
    seed: int,
    months: int = HORIZON_MONTHS,
    calibration: HorizonCalibration | None = None,
) -> pd.DataFrame:
    """The horizon rows with the configuration and its no-weather arm (both with `calibration`, so
    they differ only in the weather) and the naive levels."""
    frame = horizon_rows(data, origins, months)
    frame[MODEL], frame[DISPERSION] = predict_horizons(config, data, origins, seed, months, calibration)
    no_weather = config.without_weather()
    frame[NO_WEATHER], _ = predict_horizons(no_weather, data, origins, seed, months, calibration)
    for name, values in naive_horizon_columns(data, frame).items():
        frame[name] = values
    return frame


def first_month(frame: pd.DataFrame) -> pd.DataFrame:
    """The h = 1 rows as the one-month backtest frame (month, date, comuna, robberies, arms...)."""
    first = frame[frame["horizon"] == 1].drop(columns=["origin", "horizon"])
    return first.reset_index(drop=True)


def horizon_slices(frame: pd.DataFrame, days: int = HORIZON_DAYS) -> Iterator[tuple[str, int, pd.DataFrame]]:
    """(unit, h, rows): the days 1..`days` after each origin, then every month horizon present."""
    first = frame[frame["horizon"] == 1]
    day = (first["date"] - pd.to_datetime(first["origin"] + "-01")).dt.days + 1
    for d in range(1, days + 1):
        if (day == d).any():
            yield DAY, d, first[day == d]
    for h in sorted(frame["horizon"].unique()):
        yield MONTH, int(h), frame[frame["horizon"] == h]


def ratio_columns(rows: pd.DataFrame, seed: int) -> dict[str, float]:
    """pred/obs and the 80 %/95 % coverage of one horizon, each with its 95 % CI (whole target months
    resampled: a level missed for a month moves every day of it): `<name>`, `<name>_ci_low/_high`."""
    y, mu = rows[TARGET].to_numpy(dtype="float64"), rows[MODEL].to_numpy(dtype="float64")
    alpha = model_dispersion(rows)
    per_month = (
        pd.DataFrame(
            {
                "observed": y,
                "expected": mu,
                "coverage_80": covered(y, mu, 0.8, alpha),
                "coverage_95": covered(y, mu, 0.95, alpha),
                "rows": 1.0,
            }
        )
        .groupby(rows["month"].to_numpy(), sort=True)
        .sum()
    )
    ratios = {
        "pred_over_obs": fold_ratio(
            per_month["expected"], per_month["observed"], seed=seed, bounds=(0, np.inf)
        ),
        "coverage_80": fold_ratio(per_month["coverage_80"], per_month["rows"], seed=seed, bounds=(0, 1)),
        "coverage_95": fold_ratio(per_month["coverage_95"], per_month["rows"], seed=seed, bounds=(0, 1)),
    }
    return {
        f"{name}{suffix}": value
        for name, ratio in ratios.items()
        for suffix, value in (("", ratio.estimate), ("_ci_low", ratio.low), ("_ci_high", ratio.high))
    }


def score_horizon(rows: pd.DataFrame, seed: int) -> dict[str, object]:
    """One horizon's scores: the model's (deviance and MAE as means over origins; pred/obs and
    coverage over all rows, with their CIs), each arm's deviance, the best naive level and model - it
    with its CI."""
    y, mu = rows[TARGET].to_numpy(dtype="float64"), rows[MODEL].to_numpy(dtype="float64")
    bar = best_naive(rows)
    versus = paired_difference(rows, MODEL, bar, seed=seed)
    arms = [NO_WEATHER, *(naive_name(w) for w in NAIVE_WINDOWS)]
    return {
        "origins": int(rows["month"].nunique()),
        "rows": len(rows),
        "observed": int(y.sum()),
        "expected": round(float(mu.sum()), 1),
        "poisson_deviance": mean_fold_deviance(rows, MODEL),
        "mae": float(pd.Series(np.abs(y - mu)).groupby(rows["month"].to_numpy()).mean().mean()),
        **ratio_columns(rows, seed),
        **{f"{arm}_poisson_deviance": mean_fold_deviance(rows, arm) for arm in arms if arm in rows},
        "best_naive": bar,
        "best_naive_poisson_deviance": mean_fold_deviance(rows, bar),
        "minus_best_naive": versus.estimate,
        "minus_best_naive_ci_low": versus.low,
        "minus_best_naive_ci_high": versus.high,
    }


def horizon_table(frame: pd.DataFrame, seed: int, days: int = HORIZON_DAYS) -> pd.DataFrame:
    """One row per horizon (days first, then months) with `score_horizon`'s columns."""
    rows = [
        {"horizon": f"{unit} {h}", "unit": unit, "h": h, **score_horizon(part, seed)}
        for unit, h, part in horizon_slices(frame, days)
    ]
    return pd.DataFrame(rows)


def horizon_metrics(table: pd.DataFrame) -> dict[str, float]:
    """`backtest_h{h}_<metric>` for every month horizon scored (h = 1 repeats today's backtest_*)."""
    months = table[table["unit"] == MONTH]
    return {
        f"backtest_h{row.h}_{name}": float(getattr(row, name))
        for row in months.itertuples()
        for name in METRICS
    }
