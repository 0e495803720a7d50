"""Everything a configuration is judged by: the backtest arms and the fixed window.

- Backtest (rolling origin, the folds of the plan): the configuration, the same hyperparameters without
  weather (an honest ablation: the arms differ only in the weather), and the naive levels. One fit per
  origin and arm predicts the fold month and the months after it (modeling.selection.horizons): the
  fold month is the backtest every claim has been made on (h = 1), the others score later horizons.
- Fixed window: the last `test_months` months, trained on the months before them, levels as known at
  the split: the series of numbers every model since the first one has been logged with.

The configuration is calibrated per horizon first (modeling.selection.calibration) on the months
before the backtest's first, and every fit of it carries that calibration: both backtest arms (so
they differ only in the weather), the fixed window and the refit that serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.estimation.intervals import coverage
from crime_weather.modeling.estimation.metrics import (
    NAIVE_WINDOWS,
    comuna_weekday_baseline,
    naive_level,
    naive_name,
    scores,
)
from crime_weather.modeling.estimation.pipeline import build_pipeline
from crime_weather.modeling.features.horizon import HorizonCalibration
from crime_weather.modeling.selection.backtest import (
    MODEL,
    NO_WEATHER,
    best_naive,
    fold_table,
    mean_fold_deviance,
    model_dispersion,
)
from crime_weather.modeling.selection.bootstrap import Difference, paired_difference
from crime_weather.modeling.selection.calibration import calibrate
from crime_weather.modeling.selection.folds import CALIBRATION_ORIGINS, MonthlyData
from crime_weather.modeling.selection.horizons import (
    first_month,
    horizon_frame,
    horizon_metrics,
    horizon_table,
)
from crime_weather.modeling.selection.split import TemporalSplit


@dataclass
class Backtest:
    frame: pd.DataFrame  # the folds' rows with one column of expected robberies per arm
    folds: pd.DataFrame  # per fold: pred/obs, MAE, coverage, deviance of each arm
    best_naive: str
    weather_gain: Difference  # no weather - weather: positive when weather helps
    versus_best_naive: Difference  # model - best naive: negative when the model is better
    horizon_frame: pd.DataFrame  # every horizon's rows (origin, horizon, ...) with the same columns
    horizons: pd.DataFrame  # per horizon (days 1..7, months 1..6): scores beside the naive levels
    calibration: HorizonCalibration = field(
        default_factory=HorizonCalibration
    )  # the configuration's, for every fit of it

    @property
    def months(self) -> list[str]:
        return list(self.folds["month"])

    def deviance(self, column: str = MODEL) -> float:
        return mean_fold_deviance(self.frame, column)


def run_backtest(
    config: ModelConfig,
    data: MonthlyData,
    months: list[str],
    seed: int,
    calibration_origins: int = CALIBRATION_ORIGINS,
) -> Backtest:
    """The configuration and its no-weather arm from each of `months`, beside the naive levels, at
    every horizon, both with the configuration's calibration (fitted on the months before the first
    of `months`: the arms differ only in the weather); the fold months themselves (h = 1) carry the
    claims."""
    calibration = calibrate(config, data, months[0], seed, origins_wanted=calibration_origins)
    horizons = horizon_frame(config, data, months, seed, calibration=calibration)
    frame = first_month(horizons)
    bar = best_naive(frame)
    columns = [MODEL, NO_WEATHER, *(naive_name(w) for w in NAIVE_WINDOWS)]
    return Backtest(
        frame=frame,
        folds=fold_table(frame, columns),
        best_naive=bar,
        weather_gain=paired_difference(frame, NO_WEATHER, MODEL, seed=seed),
        versus_best_naive=paired_difference(frame, MODEL, bar, seed=seed),
        horizon_frame=horizons,
        horizons=horizon_table(horizons, seed),
        calibration=calibration,
    )


def weather_verdict(gain: Difference) -> str:
    """A claim only when the CI excludes 0."""
    if gain.low > 0:
        return "weather helps"
    if gain.high < 0:
        return "weather hurts"
    return "no detectable predictive difference"


def backtest_metrics(backtest: Backtest) -> dict[str, float]:
    frame, folds = backtest.frame, backtest.folds
    y, mu = frame[TARGET].to_numpy(dtype="float64"), frame[MODEL].to_numpy()
    gain, versus = backtest.weather_gain, backtest.versus_best_naive
    metrics = {
        "backtest_poisson_deviance": backtest.deviance(),
        "backtest_mae": float(folds["mae"].mean()),
        "backtest_pred_over_obs": float(mu.sum() / y.sum()),
        "backtest_worst_fold_pred_over_obs": float(
            folds["pred_over_obs"].iloc[int(np.argmax(np.abs(np.log(folds["pred_over_obs"]))))]
        ),
        "backtest_no_weather_poisson_deviance": backtest.deviance(NO_WEATHER),
        "backtest_baseline_365d_poisson_deviance": backtest.deviance(naive_name(365)),
        "backtest_best_naive_poisson_deviance": backtest.deviance(backtest.best_naive),
        "backtest_weather_gain": gain.estimate,
        "backtest_weather_gain_ci_low": gain.low,
        "backtest_weather_gain_ci_high": gain.high,
        "backtest_minus_best_naive": versus.estimate,
        "backtest_minus_best_naive_ci_low": versus.low,
        "backtest_minus_best_naive_ci_high": versus.high,
        "backtest_coverage_80": coverage(y, mu, 0.8, model_dispersion(frame)),
        "backtest_coverage_95": coverage(y, mu, 0.95, model_dispersion(frame)),
        "backtest_folds": float(len(folds)),
    }
    for window in NAIVE_WINDOWS:
        metrics[f"backtest_{naive_name(window)}_poisson_deviance"] = backtest.deviance(naive_name(window))
    calibration = backtest.calibration
    for h, (factor, alpha) in enumerate(zip(calibration.factors, calibration.dispersion, strict=True), 1):
        metrics[f"calibration_h{h}_level_factor"], metrics[f"calibration_h{h}_dispersion"] = factor, alpha
    if calibration.seasonal:
        metrics["calibration_seasonal_carry"] = calibration.seasonal[0]  # one share for every horizon
    if calibration.seasonal_evidence:
        names = (
            "calibration_seasonal_slope",
            "calibration_seasonal_slope_ci_low",
            "calibration_seasonal_slope_ci_high",
        )
        metrics |= dict(zip(names, calibration.seasonal_evidence, strict=True))
    return {**metrics, **horizon_metrics(backtest.horizons)}


@dataclass
class FixedWindow:
    frame: pd.DataFrame  # the test months' rows with one column of expected robberies per arm
    metrics: dict[str, float]


def fixed_window(
    config: ModelConfig, split: TemporalSplit, seed: int, calibration: HorizonCalibration | None = None
) -> FixedWindow:
    """The last test months, trained on the months before them (levels as known at the split, with
    the model's `calibration`): the model, its no-weather arm, the training mean per comuna x
    weekday, and the naive levels."""
    train_inputs, test_inputs = split.train[list(MODEL_INPUTS)], split.test[list(MODEL_INPUTS)]
    y_train, y_test = split.train[TARGET].to_numpy(), split.test[TARGET].to_numpy()
    frame = split.test[["date", "comuna", TARGET]].assign(month=split.test["date"].dt.strftime("%Y-%m"))
    model = build_pipeline(config, seed, calibration).fit(train_inputs, y_train)
    frame[MODEL] = model.predict(test_inputs)
    frame[NO_WEATHER] = (
        build_pipeline(config.without_weather(), seed).fit(train_inputs, y_train).predict(test_inputs)
    )
    frame["baseline"] = comuna_weekday_baseline(split.train, split.test)
    for window in NAIVE_WINDOWS:
        frame[naive_name(window)] = naive_level(split.train, split.test["date"].min(), window, split.test)
    metrics = {f"test_{name}": value for name, value in scores(y_test, frame[MODEL]).items()}
    metrics["test_pred_over_obs"] = float(frame[MODEL].sum() / y_test.sum()) if y_test.sum() else float("nan")
    metrics["no_weather_test_poisson_deviance"] = scores(y_test, frame[NO_WEATHER])["poisson_deviance"]
    metrics["baseline_test_poisson_deviance"] = scores(y_test, frame["baseline"])["poisson_deviance"]
    for window in NAIVE_WINDOWS:
        name = naive_name(window)
        metrics[f"test_{name}_poisson_deviance"] = scores(y_test, frame[name])["poisson_deviance"]
    metrics["train_rows"], metrics["test_rows"] = float(len(split.train)), float(len(split.test))
    return FixedWindow(frame.reset_index(drop=True), metrics)
