"""Train a challenger: two Optuna searches (with and without weather), test scores beside the
baselines, plots, and the fitted pipeline logged and registered in MLflow with its lineage tags.

Called inside an active MLflow run (the parent); every Optuna trial becomes a nested run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from sklearn.inspection import permutation_importance

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling import plots
from crime_weather.modeling.metrics import comuna_weekday_baseline, scores
from crime_weather.modeling.pipeline import TRUSTED_TYPES, model_input
from crime_weather.modeling.registry import (
    CHALLENGER,
    TAG_DAGSTER_RUN,
    TAG_FINGERPRINT,
    TAG_GIT_COMMIT,
    TAG_TEST_MONTHS,
    TAG_TRAINED_MONTHS,
    git_commit,
)
from crime_weather.modeling.search import SearchResult, search
from crime_weather.modeling.split import TemporalSplit, fingerprint


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


def _trial_logger(label: str):
    def log(number: int, params: dict[str, Any], score: float, seconds: float) -> None:
        with mlflow.start_run(run_name=f"{label}-trial-{number:03d}", nested=True):
            mlflow.set_tag("search", label)
            mlflow.log_params(params)
            mlflow.log_metrics({"cv_poisson_deviance": score, "fit_seconds": seconds})

    return log


def _run_search(split: TemporalSplit, budget: SearchBudget, *, use_weather: bool) -> SearchResult:
    label = "weather" if use_weather else "no_weather"
    return search(
        split.train,
        use_weather=use_weather,
        n_trials=budget.trials,
        timeout=budget.timeout_seconds,
        cv_splits=budget.cv_splits,
        seed=budget.seed,
        on_trial=_trial_logger(label),
    )


def train_challenger(
    split: TemporalSplit, budget: SearchBudget, *, registered_model: str, dagster_run_id: str
) -> ChallengerReport:
    """Search, score on the held-out months, log everything and register the challenger."""
    with_weather = _run_search(split, budget, use_weather=True)
    without_weather = _run_search(split, budget, use_weather=False)

    test_inputs, y_test = model_input(split.test), split.test[TARGET].to_numpy()
    test_scores = scores(y_test, with_weather.pipeline.predict(test_inputs))
    metrics = {f"test_{name}": value for name, value in test_scores.items()}
    metrics["baseline_test_poisson_deviance"] = scores(
        y_test, comuna_weekday_baseline(split.train, split.test)
    )["poisson_deviance"]
    metrics["no_weather_test_poisson_deviance"] = scores(
        y_test, without_weather.pipeline.predict(test_inputs)
    )["poisson_deviance"]
    metrics["cv_poisson_deviance"] = with_weather.best_cv_deviance
    metrics["train_rows"], metrics["test_rows"] = float(len(split.train)), float(len(split.test))

    importance = permutation_importance(
        with_weather.pipeline,
        test_inputs,
        y_test,
        scoring="neg_mean_poisson_deviance",
        n_repeats=5,
        random_state=budget.seed,
    )
    means = pd.Series(importance.importances_mean, index=list(MODEL_INPUTS))
    figures = {
        "optuna_history.png": plots.optimization_history(
            [t.value for t in with_weather.study.trials if t.value is not None],
            "Optuna search (with weather)",
        ),
        "permutation_importance.png": plots.importance(
            means,
            pd.Series(importance.importances_std, index=list(MODEL_INPUTS)),
            "Permutation importance (test)",
        ),
    }

    mlflow.log_params({f"best_{key}": value for key, value in with_weather.best_params.items()})
    mlflow.log_params({"test_months": json.dumps(split.test_months), "trials": with_weather.trials})
    mlflow.log_metrics(metrics)
    for name, png in figures.items():
        mlflow.log_image(_image(png), name)
    mlflow.log_dict(with_weather.study.trials_dataframe().to_dict(orient="list"), "optuna_trials.json")
    mlflow.log_dict({k: float(v) for k, v in means.items()}, "permutation_importance.json")

    example = test_inputs.head(5)
    info = mlflow.sklearn.log_model(
        with_weather.pipeline,
        name="model",
        signature=infer_signature(example, with_weather.pipeline.predict(example)),
        input_example=example,
        serialization_format="skops",
        skops_trusted_types=list(TRUSTED_TYPES),
        registered_model_name=registered_model,
    )
    run_id = mlflow.active_run().info.run_id
    version = str(info.registered_model_version)
    client = MlflowClient()
    tags = {
        TAG_DAGSTER_RUN: dagster_run_id,
        TAG_TRAINED_MONTHS: json.dumps(split.train_months),
        TAG_TEST_MONTHS: json.dumps(split.test_months),
        TAG_FINGERPRINT: fingerprint(split.train),
        TAG_GIT_COMMIT: git_commit(),
    }
    for key, value in tags.items():
        client.set_model_version_tag(registered_model, version, key, value)
    client.set_registered_model_alias(registered_model, CHALLENGER, version)
    mlflow.set_tags({**tags, "model_version": version})

    return ChallengerReport(
        version=version,
        run_id=run_id,
        metrics=metrics,
        best_params=with_weather.best_params,
        trials={"weather": with_weather.trials, "no_weather": without_weather.trials},
        search_seconds=with_weather.seconds + without_weather.seconds,
        plots=figures,
        importance={k: float(v) for k, v in means.items()},
    )


def _image(png: bytes) -> np.ndarray:
    import io

    import matplotlib.image

    return (matplotlib.image.imread(io.BytesIO(png), format="png") * 255).astype("uint8")
