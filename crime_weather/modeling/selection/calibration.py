"""The per-horizon calibration of a configuration, fitted on months the backtest never scores.

A model trained up to an origin predicts month h with the level frozen at the origin, so its
predictions drift with h (a level that keeps falling is overpredicted more each month) and its
intervals, built for a known level, cover less. The calibration measures both out of sample, as the
backtest does, but on the months before the backtest's first one: from each of the last
CALIBRATION_ORIGINS month starts before it, one fit (uncalibrated) predicts its months 1..6 that lie
before the backtest. Per horizon h:

- the level factor (when LEVEL_CORRECTION, off: see there) is exp of the mean over origins of log(observed / predicted), applied only when
  its 95 % CI (origins resampled in blocks, as every claim of the backtest) excludes 0, else 1. The
  drift of a frozen level changes sign from one year to the next (2018 rose, 2019 fell): a factor
  the origins do not agree on would extrapolate last year's drift into this year's;
- the seasonal carry c: the share of the seasonal step the frozen level misses (features.season)
  that the level gets, one for every horizon (fitted first, on all of them: seven to twelve origins
  per horizon are too few for one each): the least-squares slope of log(observed / predicted) of
  each origin's target months on their step, both centred per horizon, kept (capped at 1, the whole
  step) only when its 95 % CI (origins resampled) lies above 0, else 0;
- the dispersion alpha_h is the negative-binomial alpha (on a grid, 0 = Poisson) whose 80 % and 95 %
  intervals, around the corrected predictions, cover those rows closest to nominal.

A horizon with no rows takes the one before it. Both go into the pipeline (features.horizon), so the
backtest's fits, the refit that serves and the API all use the same numbers, and none of them comes
from a month the backtest scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.estimation.intervals import coverage
from crime_weather.modeling.estimation.pipeline import features_of
from crime_weather.modeling.features.horizon import HORIZON_MONTHS, HorizonCalibration
from crime_weather.modeling.selection.bootstrap import Ratio, fold_interval, fold_ratio
from crime_weather.modeling.selection.folds import CALIBRATION_ORIGINS, MIN_TRAIN_MONTHS, MonthlyData
from crime_weather.modeling.selection.horizons import fitted_origins, horizon_rows
from crime_weather.tables import terms

# Off, as measured on the shared data (benchmarks/backtest.py, 2026-12-06): fitted on 2018-03..2019-02
# (a rising level) the h = 6 factor was 1.073 with a CI excluding 1, and the backtest year's level fell:
# h = 6 deviance 1.70 against 1.51 without it, worse than the naive level. The drift of a frozen
# level is not stable from one year to the next; the intervals' dispersion carries its uncertainty.
LEVEL_CORRECTION = False
DISPERSION_GRID = np.round(np.arange(0.0, 0.2001, 0.005), 3)
NOMINAL = (0.8, 0.95)


def calibration_origins(data: MonthlyData, before: str, origins: int = CALIBRATION_ORIGINS) -> list[str]:
    """The last `origins` months before `before` that have MIN_TRAIN_MONTHS of data before them."""
    usable = [month for month in data.months[MIN_TRAIN_MONTHS:] if month < before]
    return usable[-origins:]


def level_factor(y: np.ndarray, expected: np.ndarray, origin: np.ndarray, seed: int) -> float:
    """exp of the mean per-origin log(observed / predicted) when its 95 % CI (origins resampled in
    blocks, modeling.selection.bootstrap) excludes 0, else 1: a correction needs its CI."""
    frame = (
        pd.DataFrame({"y": y, "mu": expected, "origin": origin})
        .groupby("origin", sort=True)[["y", "mu"]]
        .sum()
    )
    logs = np.log(np.maximum(frame["y"], 1.0) / frame["mu"]).to_numpy()
    drift = fold_interval(logs, seed=seed)
    return float(np.exp(drift.estimate)) if drift.excludes_zero else 1.0


def seasonal_carry(
    y: np.ndarray, expected: np.ndarray, step: np.ndarray, origin: np.ndarray, horizon: np.ndarray, seed: int
) -> tuple[float, Ratio | None]:
    """The share of the seasonal step to carry, one for every horizon: the slope of log(observed /
    predicted) of each origin's target month on its step, both centred per horizon (the level's
    drift at h is not the season's), when its 95 % CI (whole origins resampled in blocks: an
    origin's horizons share its level) lies above 0; at most 1, else 0. Returned with the slope
    and its CI (None without any step: a history too short for a seasonal index)."""
    months = (
        pd.DataFrame({"y": y, "mu": expected, "step": step, "origin": origin, "horizon": horizon})
        .groupby(["origin", "horizon"], sort=True)
        .agg(y=("y", "sum"), mu=("mu", "sum"), step=("step", "mean"))
    )
    pairs = pd.DataFrame({"log": np.log(np.maximum(months["y"], 1.0) / months["mu"]), "step": months["step"]})
    centred = pairs - pairs.groupby(level="horizon").transform("mean")
    per_origin = (
        pd.DataFrame({"cross": centred["log"] * centred["step"], "square": centred["step"] ** 2})
        .groupby(level="origin", sort=True)
        .sum()
    )
    if not (per_origin["square"] > 1e-12).any():
        return 0.0, None
    slope = fold_ratio(per_origin["cross"].to_numpy(), per_origin["square"].to_numpy(), seed=seed)
    return (float(min(slope.estimate, 1.0)) if slope.low > 0 else 0.0), slope


def fitted_dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """The grid's alpha whose intervals cover `y` closest to NOMINAL (squared misses summed); the
    smallest such alpha on ties."""
    misses = [
        sum((coverage(y, mu, level, alpha) - level) ** 2 for level in NOMINAL) for alpha in DISPERSION_GRID
    ]
    return float(DISPERSION_GRID[int(np.argmin(misses))])


def calibrate(
    config: ModelConfig,
    data: MonthlyData,
    before: str,
    seed: int,
    months: int = HORIZON_MONTHS,
    origins_wanted: int = CALIBRATION_ORIGINS,
) -> HorizonCalibration:
    """The configuration's level factors, seasonal carry and interval dispersion per horizon 1..`months`, from the
    `origins_wanted` month starts before `before` (the backtest's first month). None (identity,
    Poisson) without origins."""
    past = MonthlyData(data.frame[data.month < before])
    origins = calibration_origins(past, before, origins_wanted)
    if not origins:
        return HorizonCalibration()
    rows = horizon_rows(past, origins, months)
    expected, step = [], []
    for pipeline, targets in fitted_origins(config, past, origins, seed, months):
        expected.append(pipeline.predict(targets))
        step.append(features_of(pipeline).seasonal_steps(terms.as_days(targets["date"])))
    mu, steps = np.concatenate(expected), np.concatenate(step)
    y, horizon = rows[TARGET].to_numpy(dtype="float64"), rows["horizon"].to_numpy()
    origin = rows["origin"].to_numpy()
    carry, slope = seasonal_carry(y, mu, steps, origin, horizon, seed)
    mu = mu * np.exp(carry * steps)
    factors, dispersion = [1.0], [0.0]
    for h in range(1, months + 1):
        part = horizon == h
        if not part.any() or y[part].sum() == 0:
            factors.append(factors[-1])
            dispersion.append(dispersion[-1])
            continue
        factor = level_factor(y[part], mu[part], origin[part], seed) if LEVEL_CORRECTION else 1.0
        factors.append(factor)
        dispersion.append(fitted_dispersion(y[part], mu[part] * factor))
    evidence = (slope.estimate, slope.low, slope.high) if slope else ()
    return HorizonCalibration(tuple(factors[1:]), tuple(dispersion[1:]), (carry,) * months, evidence)
