"""Train a challenger: two Optuna searches (with and without weather), test scores beside the
baselines, plots, and the fitted pipeline logged and registered in MLflow with its lineage tags.

Writes into the run it is given (the parent); every Optuna trial becomes a nested run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.inspection import permutation_importance

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling import plots
from crime_weather.modeling.metrics import comuna_weekday_baseline, scores
from crime_weather.modeling.pipeline import model_input
from crime_weather.modeling.registry import (
    CHALLENGER,
    TAG_DAGSTER_RUN,
    TAG_FINGERPRINT,
    TAG_GIT_COMMIT,
    TAG_TEST_MONTHS,
    TAG_TRAINED_MONTHS,
    git_commit,
    register,
)
from crime_weather.modeling.search import SearchResult, TrialCallback, search
from crime_weather.modeling.split import TemporalSplit, fingerprint
from crime_weather.modeling.tracking import RunLog, run


@dataclass(frozen=True)
class SearchBudget:
    trials: int
    timeout_seconds: float
    cv_splits: int
    seed: int


@dataclass
class ChallengerReport:
    version: str
    run_id: str
    metrics: dict[str, float]
    best_params: dict[str, Any]
    trials: dict[str, int]
    search_seconds: float
    plots: dict[str, bytes] = field(repr=False)
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def weather_gain(self) -> float:
        """Relative reduction of test deviance that weather brings over the same model without it."""
        without = self.metrics["no_weather_test_poisson_deviance"]
        return (without - self.metrics["test_poisson_deviance"]) / without if without else 0.0


def _trial_logger(parent: RunLog, label: str) -> TrialCallback:
    def log(number: int, params: dict[str, Any], score: float, seconds: float) -> None:
        with run(
            parent.client, parent.experiment_id, f"{label}-trial-{number:03d}", {"search": label}, parent
        ) as trial:
            trial.params(params)
            trial.metrics({"cv_poisson_deviance": score, "fit_seconds": seconds})

    return log


def _search(split: TemporalSplit, budget: SearchBudget, parent: RunLog, *, use_weather: bool) -> SearchResult:
    label = "weather" if use_weather else "no_weather"
    return search(
        split.train,
        use_weather=use_weather,
        n_trials=budget.trials,
        timeout=budget.timeout_seconds,
        cv_splits=budget.cv_splits,
        seed=budget.seed,
        on_trial=_trial_logger(parent, label),
    )


def held_out_metrics(
    split: TemporalSplit, with_weather: SearchResult, without_weather: SearchResult
) -> dict[str, float]:
    """The held-out months' scores of both searches and of the comuna x weekday baseline."""
    inputs, y = model_input(split.test), split.test[TARGET].to_numpy()
    metrics = {
        f"test_{name}": value for name, value in scores(y, with_weather.pipeline.predict(inputs)).items()
    }
    baseline = comuna_weekday_baseline(split.train, split.test)
    metrics["baseline_test_poisson_deviance"] = scores(y, baseline)["poisson_deviance"]
    no_weather = without_weather.pipeline.predict(inputs)
    metrics["no_weather_test_poisson_deviance"] = scores(y, no_weather)["poisson_deviance"]
    metrics["cv_poisson_deviance"] = with_weather.best_cv_deviance
    metrics["train_rows"], metrics["test_rows"] = float(len(split.train)), float(len(split.test))
    return metrics


def importance(result: SearchResult, test: pd.DataFrame, seed: int) -> tuple[pd.Series, pd.Series]:
    """Permutation importance of each raw input on the test months (mean and std over 5 repeats)."""
    found = permutation_importance(
        result.pipeline,
        model_input(test),
        test[TARGET].to_numpy(),
        scoring="neg_mean_poisson_deviance",
        n_repeats=5,
        random_state=seed,
    )
    names = list(MODEL_INPUTS)
    return pd.Series(found.importances_mean, index=names), pd.Series(found.importances_std, index=names)


def lineage_tags(split: TemporalSplit, dagster_run_id: str) -> dict[str, str]:
    """What a model version records of where it came from: the run, the months, the data, the code."""
    return {
        TAG_DAGSTER_RUN: dagster_run_id,
        TAG_TRAINED_MONTHS: json.dumps(split.train_months),
        TAG_TEST_MONTHS: json.dumps(split.test_months),
        TAG_FINGERPRINT: fingerprint(split.train),
        TAG_GIT_COMMIT: git_commit(),
    }


def train_challenger(
    split: TemporalSplit, budget: SearchBudget, parent: RunLog, *, registered_model: str, dagster_run_id: str
) -> ChallengerReport:
    """Search, score on the held-out months, log everything and register the challenger."""
    with_weather = _search(split, budget, parent, use_weather=True)
    without_weather = _search(split, budget, parent, use_weather=False)
    metrics = held_out_metrics(split, with_weather, without_weather)
    means, stds = importance(with_weather, split.test, budget.seed)
    history = [t.value for t in with_weather.study.trials if t.value is not None]
    figures = {
        "optuna_history.png": plots.optimization_history(history, "Optuna search (with weather)"),
        "permutation_importance.png": plots.importance(means, stds, "Permutation importance (test)"),
    }

    parent.params({f"best_{key}": value for key, value in with_weather.best_params.items()})
    parent.params({"test_months": json.dumps(split.test_months), "trials": with_weather.trials})
    parent.metrics(metrics)
    for name, png in figures.items():
        parent.png(png, name)
    parent.json(with_weather.study.trials_dataframe().to_dict(orient="list"), "optuna_trials.json")
    parent.json({k: float(v) for k, v in means.items()}, "permutation_importance.json")

    tags = lineage_tags(split, dagster_run_id)
    example = model_input(split.test).head(5)
    version = register(parent, with_weather.pipeline, example, registered_model, tags)
    parent.client.set_registered_model_alias(registered_model, CHALLENGER, version)
    parent.tags({**tags, "model_version": version})
    return ChallengerReport(
        version=version,
        run_id=parent.run_id,
        metrics=metrics,
        best_params=with_weather.best_params,
        trials={"weather": with_weather.trials, "no_weather": without_weather.trials},
        search_seconds=with_weather.seconds + without_weather.seconds,
        plots=figures,
        importance={k: float(v) for k, v in means.items()},
    )
