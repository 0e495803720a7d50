"""Rolling-origin backtest: each fold month predicted by a model trained on every month before it.

A backtest is a frame of the folds' rows (month, date, comuna, robberies) with one column of expected
robberies per arm: the configuration, its no-weather ablation, the naive levels (and the dispersion of
the model's intervals). Every comparison
(paired differences, per-fold tables, coverage) reads that one frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.estimation.intervals import coverage
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_level, naive_name, unit_deviance
from crime_weather.modeling.estimation.pipeline import build_pipeline
from crime_weather.modeling.selection.folds import MonthlyData

MODEL, NO_WEATHER = "model", "no_weather"
DISPERSION = "model_dispersion"  # the NB alpha of the model's intervals per row (absent: Poisson)


def model_dispersion(rows: pd.DataFrame) -> np.ndarray | float:
    """The model's interval dispersion of each row (0, Poisson, in a frame without it)."""
    return rows[DISPERSION].to_numpy(dtype="float64") if DISPERSION in rows else 0.0


def fold_rows(data: MonthlyData, months: list[str]) -> pd.DataFrame:
    """The rows the folds predict, in fold order: month, date, comuna, robberies."""
    parts = [
        data.frame.loc[data.within(month), ["date", "comuna", TARGET]].assign(month=month) for month in months
    ]
    return pd.concat(parts, ignore_index=True)[["month", "date", "comuna", TARGET]]


def predict_folds(config: ModelConfig, data: MonthlyData, months: list[str], seed: int) -> np.ndarray:
    """Expected robberies of every fold row (fold order), each fold fitted on the months before it."""
    predictions = []
    for month in months:
        train, test = data.before(month), data.within(month)
        pipeline = build_pipeline(config, seed).fit(data.inputs[train], data.y[train])
        predictions.append(pipeline.predict(data.inputs[test]))
    return np.concatenate(predictions)


def naive_columns(data: MonthlyData, months: list[str]) -> dict[str, np.ndarray]:
    """Each naive level's expected robberies for the fold rows, from the days before each fold."""
    columns: dict[str, list[np.ndarray]] = {naive_name(window): [] for window in NAIVE_WINDOWS}
    for month in months:
        origin, rows = pd.Timestamp(f"{month}-01"), data.frame[data.within(month)]
        for window in NAIVE_WINDOWS:
            columns[naive_name(window)].append(naive_level(data.frame, origin, window, rows))
    return {name: np.concatenate(parts) for name, parts in columns.items()}


def mean_fold_deviance(frame: pd.DataFrame, column: str) -> float:
    """The backtest's headline: the mean over folds of each fold's mean Poisson deviance."""
    deviance = unit_deviance(frame[TARGET], frame[column])
    return float(pd.Series(deviance).groupby(frame["month"].to_numpy()).mean().mean())


def best_naive(frame: pd.DataFrame) -> str:
    """The naive level with the lowest backtest deviance: the bar a model has to clear."""
    return min((naive_name(w) for w in NAIVE_WINDOWS), key=lambda name: mean_fold_deviance(frame, name))


def fold_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per fold: rows, observed and expected robberies, pred/obs, MAE, interval coverage, and the mean
    deviance of each of `columns` (the first one is the model the pred/obs and coverage are of)."""
    model = columns[0]
    rows = []
    for month, fold in frame.groupby("month", sort=True):
        y, mu = fold[TARGET].to_numpy(dtype="float64"), fold[model].to_numpy()
        row = {
            "month": month,
            "rows": len(fold),
            "observed": int(y.sum()),
            "expected": round(float(mu.sum()), 1),
            "pred_over_obs": float(mu.sum() / y.sum()) if y.sum() else float("nan"),
            "mae": float(np.abs(y - mu).mean()),
            "coverage_80": coverage(y, mu, 0.8, model_dispersion(fold)),
            "coverage_95": coverage(y, mu, 0.95, model_dispersion(fold)),
        }
        for column in columns:
            row[f"{column}_deviance"] = float(unit_deviance(y, fold[column].to_numpy()).mean())
        rows.append(row)
    return pd.DataFrame(rows)
