"""A real MLflow registry for tests: sqlite backend and a temp artifact folder, no server."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from crime_weather.core.months import month_days
from crime_weather.core.names import CALENDAR_COLUMNS, COMUNAS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.pipeline import TRUSTED_TYPES, build_pipeline, model_input
from crime_weather.modeling.registry import (
    CHAMPION,
    TAG_DAGSTER_RUN,
    TAG_PROMOTED_AT,
    TAG_TRAINED_MONTHS,
)
from crime_weather.tables.features import calendar_columns


def tracking_uri(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def synthetic_features(
    months: list[str], seed: int = 0, weather_effect: float = 0.03
) -> dict[str, pd.DataFrame]:
    """daily_features-shaped frames whose robberies depend on comuna, weekday and temperature.

    Generated, not real: for tests of the model lifecycle only.
    """
    rng = np.random.default_rng(seed)
    frames = {}
    for month in months:
        days = month_days(month)
        grid = pd.MultiIndex.from_product([days, COMUNAS], names=["date", "comuna"]).to_frame(index=False)
        temp = 18 + 8 * np.sin(2 * np.pi * grid["date"].dt.dayofyear / 365) + rng.normal(0, 2, len(grid))
        rate = np.exp(
            0.8 + 0.08 * grid["comuna"] + 0.15 * (grid["date"].dt.weekday < 5) + weather_effect * temp
        )
        frame = grid.assign(**{name: np.nan for name in WEATHER_FIELDS})
        frame["temp_mean"] = temp
        frame["precipitation_mm"] = rng.exponential(2, len(grid))
        frame[TARGET] = rng.poisson(rate).astype("int64")
        frame["comuna"] = frame["comuna"].astype("int64")
        frame = pd.concat([frame, calendar_columns(frame["date"])], axis=1)
        frames[month] = frame[["date", "comuna", TARGET, *WEATHER_FIELDS, *CALENDAR_COLUMNS]]
    return frames


def register_model(
    uri: str,
    name: str = "crime_weather",
    *,
    alias: str | None = CHAMPION,
    max_iter: int = 30,
    seed: int = 0,
    months: list[str] | None = None,
) -> str:
    """Fit a small pipeline on synthetic features, log it as the platform does, and register it."""
    months = months or ["2019-01", "2019-02", "2019-03"]
    frames = synthetic_features(months, seed=seed)
    data = pd.concat(frames.values(), ignore_index=True)
    inputs = model_input(data)
    pipeline = build_pipeline({"max_iter": max_iter}, seed=seed).fit(inputs, data[TARGET])
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)  # log_model registers through the process-wide registry URI
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name("crime_weather") or client.get_experiment(
        client.create_experiment(
            "crime_weather",
            artifact_location=(Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri(),
        )
    )
    with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
        mlflow.log_metrics({"test_poisson_deviance": 1.0 + seed / 100, "test_mae": 2.0, "test_rmse": 3.0})
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(inputs.head(5), pipeline.predict(inputs.head(5))),
            input_example=inputs.head(5),
            serialization_format="skops",
            skops_trusted_types=list(TRUSTED_TYPES),
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    client.set_model_version_tag(name, version, TAG_TRAINED_MONTHS, json.dumps(months))
    client.set_model_version_tag(name, version, TAG_DAGSTER_RUN, f"test-run-{run.info.run_id[:8]}")
    if alias:
        client.set_model_version_tag(name, version, TAG_PROMOTED_AT, "2026-01-01T00:00:00+00:00")
        client.set_registered_model_alias(name, alias, version)
    return version


def promote_foreign_model(uri: str, model: object, name: str = "crime_weather", **log_options: object) -> str:
    """Log `model` as a new version with `log_options` (e.g. a pickle format, or trusted types the model
    file chose itself), not the way the platform does, and make it the champion: what a careless or
    hostile registry user could do."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = MlflowClient(uri, uri).get_experiment_by_name(name).experiment_id
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name, **log_options)
    version = str(info.registered_model_version)
    MlflowClient(uri, uri).set_registered_model_alias(name, CHAMPION, version)
    return version
