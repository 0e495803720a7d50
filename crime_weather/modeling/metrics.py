"""Scores and baselines, all on the same held-out test split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_poisson_deviance, mean_squared_error

from crime_weather.core.names import TARGET

# Poisson deviance is undefined for a prediction of 0: a baseline mean of 0 is floored here.
MIN_RATE = 1e-3


def scores(y_true: np.ndarray | pd.Series, y_pred: np.ndarray) -> dict[str, float]:
    y_pred = np.maximum(np.asarray(y_pred, dtype="float64"), MIN_RATE)
    return {
        "poisson_deviance": float(mean_poisson_deviance(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
    }


def comuna_weekday_baseline(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """The training mean per comuna and weekday: what a model must beat to be worth anything."""
    weekday = train["date"].dt.weekday
    means = train.groupby([train["comuna"], weekday])[TARGET].mean()
    keys = pd.MultiIndex.from_arrays([test["comuna"], test["date"].dt.weekday])
    fallback = float(train[TARGET].mean())
    return means.reindex(keys).fillna(fallback).to_numpy(dtype="float64")
