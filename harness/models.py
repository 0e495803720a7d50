"""Models in a real MLflow registry for tests and benchmarks: registered as the platform registers them\n(or, on purpose, not), with synthetic features to fit them on."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from crime_weather.core.months import month_days
from crime_weather.core.names import CALENDAR_COLUMNS, COMUNAS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.estimation.config import HGB, ModelConfig
from crime_weather.modeling.estimation.pipeline import build_pipeline, history_end, model_input
from crime_weather.modeling.features.levels import NO_LEVEL
from crime_weather.modeling.registry.tracking import client_for, experiment_id, run
from crime_weather.modeling.registry.versions import (
    CHAMPION,
    TAG_CONFIG,
    TAG_DAGSTER_RUN,
    TAG_FINGERPRINT,
    TAG_HISTORY_END,
    TAG_PROMOTED_AT,
    TAG_TRAINED_MONTHS,
    register,
)
from crime_weather.modeling.selection.split import fingerprint
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


def _experiment(client: MlflowClient, uri: str) -> str:
    """The platform's experiment; without a server, artifacts go beside the sqlite file."""
    if not uri.startswith("sqlite:"):
        return experiment_id(client, "crime_weather")
    artifacts = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
    return experiment_id(client, "crime_weather", artifacts)


def model_config(max_iter: int = 30, *, weak: bool = False) -> ModelConfig:
    """A small gradient boosting configuration; `weak`: no level offset and one boosting step, so it
    predicts about the overall mean everywhere (barely a model: any real one beats it)."""
    if weak:
        return ModelConfig(HGB, NO_LEVEL, params={"max_iter": 1, "learning_rate": 0.01})
    return ModelConfig(HGB, "ewm30_cmom28", params={"max_iter": max_iter, "min_samples_leaf": 40})


def register_model(
    uri: str,
    name: str = "crime_weather",
    *,
    alias: str | None = CHAMPION,
    max_iter: int = 30,
    weak: bool = False,
    seed: int = 0,
    months: list[str] | None = None,
) -> str:
    """Fit a small pipeline on synthetic features, log and register it as the platform does (its
    configuration, history end and data fingerprint among the tags)."""
    frames = synthetic_features(months or ["2019-01", "2019-02", "2019-03"], seed=seed)
    data = pd.concat(frames.values(), ignore_index=True)
    return register_fitted(uri, model_config(max_iter, weak=weak), data, name, alias=alias, seed=seed)


def register_fitted(
    uri: str,
    config: ModelConfig,
    data: pd.DataFrame,
    name: str = "crime_weather",
    *,
    alias: str | None = CHAMPION,
    seed: int = 0,
) -> str:
    """`config` fitted on `data` (daily_features rows), logged and registered as the platform does."""
    inputs = model_input(data)
    pipeline = build_pipeline(config, seed=seed).fit(inputs, data[TARGET])
    months = sorted(pd.to_datetime(data["date"]).dt.strftime("%Y-%m").unique())
    client = client_for(uri)
    with run(client, _experiment(client, uri), f"test model {seed}") as logged:
        logged.metrics({"test_poisson_deviance": 1.0 + seed / 100, "test_mae": 2.0, "test_rmse": 3.0})
        tags = {
            TAG_TRAINED_MONTHS: json.dumps(months),
            TAG_DAGSTER_RUN: f"test-run-{logged.run_id[:8]}",
            TAG_CONFIG: config.to_json(),
            TAG_HISTORY_END: history_end(pipeline),
            TAG_FINGERPRINT: fingerprint(data),
        }
        version = register(logged, pipeline, inputs.head(5), name, tags)
    if alias:
        client.set_model_version_tag(name, version, TAG_PROMOTED_AT, "2026-01-01T00:00:00+00:00")
        client.set_registered_model_alias(name, alias, version)
    return version


def promote_foreign_model(
    uri: str, model: object, name: str = "crime_weather", **save_options: object
) -> str:
    """Log `model` as a new version with `save_options` (e.g. a pickle format, or trusted types the
    model file chose itself), not the way the platform does, and make it the champion: what a careless
    or hostile registry user could do."""
    client = client_for(uri)
    with (
        run(client, _experiment(client, uri), "foreign model") as logged,
        tempfile.TemporaryDirectory() as folder,
    ):
        mlflow.sklearn.save_model(model, path=f"{folder}/model", **save_options)
        logged.folder(Path(folder) / "model", "model")
        source = f"{logged.artifact_uri}/model"
    with contextlib.suppress(MlflowException):  # it exists
        client.create_registered_model(name)
    version = str(client.create_model_version(name, source=source, run_id=logged.run_id).version)
    client.set_registered_model_alias(name, CHAMPION, version)
    return version
