"""Scores and the naive baselines a model must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_poisson_deviance, mean_squared_error

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.estimators import MIN_RATE
from crime_weather.tables.terms import as_days, weekday

# Naive levels: the mean per comuna x weekday over the N days before the origin (None: all history).
NAIVE_WINDOWS: tuple[int | None, ...] = (28, 56, 91, 182, 365, None)


def naive_name(window: int | None) -> str:
    return f"naive_{window}d" if window else "naive_all"


def scores(y_true: np.ndarray | pd.Series, y_pred: np.ndarray) -> dict[str, float]:
    y_pred = np.maximum(np.asarray(y_pred, dtype="float64"), MIN_RATE)
    return {
        "poisson_deviance": float(mean_poisson_deviance(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
    }


def unit_deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Poisson deviance of each row (its mean is sklearn's mean_poisson_deviance)."""
    y = np.asarray(y, dtype="float64")
    mu = np.maximum(np.asarray(mu, dtype="float64"), MIN_RATE)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2 * (log_term - (y - mu))


def comuna_weekday_mean(history: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The mean per comuna and weekday of `history`, for each of `rows` (overall mean where a cell is empty)."""
    weekdays = weekday(as_days(history["date"]))
    means = history.groupby([history["comuna"], weekdays])[TARGET].mean()
    keys = pd.MultiIndex.from_arrays([rows["comuna"], weekday(as_days(rows["date"]))])
    fallback = float(history[TARGET].mean()) if len(history) else MIN_RATE
    return np.maximum(means.reindex(keys).fillna(fallback).to_numpy(dtype="float64"), MIN_RATE)


def naive_level(
    frame: pd.DataFrame, origin: pd.Timestamp, window: int | None, rows: pd.DataFrame
) -> np.ndarray:
    """The naive level at `origin`: comuna x weekday mean over the `window` days before it."""
    history = frame[frame["date"] < origin]
    if window is not None:
        history = history[history["date"] >= origin - pd.Timedelta(days=window)]
    return comuna_weekday_mean(history, rows)


def comuna_weekday_baseline(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """The training mean per comuna and weekday (the fixed window's baseline since the first model)."""
    return comuna_weekday_mean(train, test)
