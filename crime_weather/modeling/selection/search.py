"""Optuna search over the model family, the level spec and the family's hyperparameters.

Seeded TPE (multivariate, grouped: each family has its own parameters) on a time-ordered objective:
the mean Poisson deviance over monthly rolling-origin folds, each trained on every month before it.
The features of a fold depend only on the level spec, so they are computed once per (fold, level)
and a trial fits only the estimator: the same result as fitting the whole pipeline, several times
faster.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from sklearn.metrics import mean_poisson_deviance

from crime_weather.modeling.estimation.config import FAMILIES, GLM, HGB, ModelConfig
from crime_weather.modeling.estimation.pipeline import offset_model
from crime_weather.modeling.features.levels import SEARCHED_LEVELS
from crime_weather.modeling.features.transformer import LevelFeatures
from crime_weather.modeling.selection.folds import MonthlyData

TrialCallback = Callable[[int, ModelConfig, float, float], None]

# Ranges around the model study's optima, widened where they sat on an edge (REPORT.md).
SPACES: dict[str, dict[str, BaseDistribution]] = {
    HGB: {
        "learning_rate": FloatDistribution(0.005, 0.1, log=True),
        "max_iter": IntDistribution(20, 300),
        "max_leaf_nodes": IntDistribution(4, 31),
        "min_samples_leaf": IntDistribution(20, 500, log=True),
        "l2_regularization": FloatDistribution(1e-3, 10.0, log=True),
        "max_features": FloatDistribution(0.5, 1.0),
    },
    GLM: {
        "alpha": FloatDistribution(1e-4, 1.0, log=True),
        "doy_knots": IntDistribution(4, 12),
        "temperature": CategoricalDistribution(["bins", "linear"]),
        "comuna_weekday": CategoricalDistribution([True, False]),
    },
}


def _suggest(trial: optuna.Trial, name: str, space: BaseDistribution) -> Any:
    if isinstance(space, FloatDistribution):
        return trial.suggest_float(name, space.low, space.high, log=space.log)
    if isinstance(space, IntDistribution):
        return trial.suggest_int(name, space.low, space.high, log=space.log)
    assert isinstance(space, CategoricalDistribution)
    return trial.suggest_categorical(name, space.choices)


def suggest(trial: optuna.Trial) -> ModelConfig:
    family = trial.suggest_categorical("family", FAMILIES)
    level = trial.suggest_categorical("level", SEARCHED_LEVELS)
    params = {name: _suggest(trial, name, space) for name, space in SPACES[family].items()}
    return ModelConfig(family, level, weather=True, params=params)


def _within(value: Any, space: BaseDistribution) -> bool:
    if isinstance(space, CategoricalDistribution):
        return value in space.choices
    return isinstance(value, int | float) and space.low <= value <= space.high  # type: ignore[attr-defined]


def in_search_space(config: ModelConfig) -> bool:
    """Whether the search could have chosen `config` (only those can start it)."""
    space = SPACES[config.family]
    return (
        config.weather
        and config.level in SEARCHED_LEVELS
        and set(config.params) == set(space)
        and all(_within(config.params[name], dist) for name, dist in space.items())
    )


class FoldFeatures:
    """Each search fold's feature matrices per level spec, computed on first use."""

    def __init__(self, data: MonthlyData, months: Sequence[str]) -> None:
        self.data, self.months = data, list(months)
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def fold(self, month: str, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if (month, level) not in self._cache:
            data, train, test = self.data, self.data.before(month), self.data.within(month)
            features = LevelFeatures(level=level, weather=True).fit(data.inputs[train], data.y[train])
            self._cache[month, level] = (
                features.transform(data.inputs[train]),
                data.y[train],
                features.transform(data.inputs[test]),
                data.y[test],
            )
        return self._cache[month, level]

    def score(self, config: ModelConfig, seed: int) -> float:
        """Mean over the folds of the configuration's Poisson deviance."""
        losses = []
        for month in self.months:
            F_train, y_train, F_test, y_test = self.fold(month, config.level)
            model = offset_model(config, seed).fit(F_train, y_train)
            losses.append(mean_poisson_deviance(y_test, model.predict(F_test)))
        return float(np.mean(losses))


@dataclass
class SearchResult:
    best: ModelConfig
    best_deviance: float
    study: optuna.Study
    seconds: float

    @property
    def trials(self) -> int:
        return len(self.study.trials)

    @property
    def trials_per_minute(self) -> float:
        return 60 * self.trials / self.seconds if self.seconds else 0.0


def search(
    data: MonthlyData,
    months: Sequence[str],
    *,
    trials: int,
    timeout: float,
    seed: int,
    start_from: Sequence[ModelConfig] = (),
    on_trial: TrialCallback | None = None,
) -> SearchResult:
    """The configuration with the lowest mean deviance over `months` (folds), starting from
    `start_from` (e.g. the champion's configuration and the model study's), then seeded TPE."""
    started = time.monotonic()
    folds = FoldFeatures(data, months)

    def objective(trial: optuna.Trial) -> float:
        config = suggest(trial)
        trial_started = time.monotonic()
        score = folds.score(config, seed)
        trial.set_user_attr("config", config.to_json())
        if on_trial is not None:
            on_trial(trial.number, config, score, time.monotonic() - trial_started)
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # `group` is experimental since 2.8, and still what fits families
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        study = optuna.create_study(direction="minimize", sampler=sampler)
        starts = {config.to_json(): config for config in start_from if in_search_space(config)}
        for config in starts.values():
            study.enqueue_trial({"family": config.family, "level": config.level, **config.params})
        # A configuration that cannot be fitted (a numerical failure) is a failed trial, not a failed retrain.
        study.optimize(
            objective,
            n_trials=trials,
            timeout=timeout,
            catch=(ValueError, ArithmeticError, np.linalg.LinAlgError),
        )
    best = ModelConfig.from_json(study.best_trial.user_attrs["config"])
    return SearchResult(best, float(study.best_value), study, time.monotonic() - started)
