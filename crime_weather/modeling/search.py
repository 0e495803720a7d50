"""Optuna search over the pipeline: seeded TPE, time-series cross-validated Poisson deviance."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline

from crime_weather.core.names import TARGET
from crime_weather.modeling.pipeline import build_pipeline, model_input

TrialCallback = Callable[[int, dict[str, Any], float, float], None]


def time_series_folds(dates: pd.Series, n_splits: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """TimeSeriesSplit over days, not rows: a day's comunas stay in the same fold."""
    days = np.sort(dates.unique())
    for train_days, valid_days in TimeSeriesSplit(n_splits=n_splits).split(days):
        yield (
            np.flatnonzero(dates.isin(days[train_days]).to_numpy()),
            np.flatnonzero(dates.isin(days[valid_days]).to_numpy()),
        )


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
        "max_iter": trial.suggest_int("max_iter", 50, 400, step=25),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 7, 63),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 200, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
    }


@dataclass
class SearchResult:
    pipeline: Pipeline
    best_params: dict[str, Any]
    best_cv_deviance: float
    study: optuna.Study
    seconds: float
    trials: int = field(init=False)

    def __post_init__(self) -> None:
        self.trials = len(self.study.trials)


def search(
    train: pd.DataFrame,
    *,
    use_weather: bool,
    n_trials: int,
    timeout: float,
    cv_splits: int,
    seed: int,
    on_trial: TrialCallback | None = None,
) -> SearchResult:
    """Find the best parameters by CV on `train`, then refit the best pipeline on all of it."""
    started = time.monotonic()
    X, y = model_input(train), train[TARGET].to_numpy()
    folds = list(time_series_folds(train["date"], cv_splits))

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial)
        trial_started = time.monotonic()
        losses = []
        for train_rows, valid_rows in folds:
            pipeline = build_pipeline(params, use_weather=use_weather, seed=seed)
            pipeline.fit(X.iloc[train_rows], y[train_rows])
            losses.append(mean_poisson_deviance(y[valid_rows], pipeline.predict(X.iloc[valid_rows])))
        score = float(np.mean(losses))
        if on_trial is not None:
            on_trial(trial.number, params, score, time.monotonic() - trial_started)
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, timeout=timeout)
    best = build_pipeline(study.best_params, use_weather=use_weather, seed=seed).fit(X, y)
    return SearchResult(
        best, dict(study.best_params), float(study.best_value), study, time.monotonic() - started
    )
