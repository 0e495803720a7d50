"""The MLflow registry as the platform uses it: versions, aliases, lineage tags, safe loading.

Models load with *our* list of trusted skops types (pipeline.TRUSTED_TYPES), not the list stored in
the model's own MLmodel file: a model from anywhere cannot whitelist what it carries.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from mlflow.entities import LoggedModel, LoggedModelStatus
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS
from sklearn.pipeline import Pipeline

from crime_weather.modeling.estimation.pipeline import TRUSTED_TYPES
from crime_weather.modeling.registry.tracking import RunLog, client_for

CHAMPION = "champion"
CHALLENGER = "challenger"

# Version tags: the lineage from a model back to the Dagster run and the data it saw.
TAG_DAGSTER_RUN = "dagster_run_id"
TAG_TRAINED_MONTHS = "trained_months"
TAG_TEST_MONTHS = "test_months"
TAG_FINGERPRINT = "training_data_fingerprint"
TAG_GIT_COMMIT = "git_commit"
TAG_PROMOTED_AT = "promoted_at"
# What a version is and knows: its configuration (JSON, to retrain it on new data), the last day of
# robberies its level rests on, and the months its backtest predicted.
TAG_CONFIG = "model_config"
TAG_HISTORY_END = "history_end"
TAG_BACKTEST_MONTHS = "backtest_months"
# How it became the champion (modeling.promotion.record writes them).
PROMOTION = "promotion_"


class UntrustedModelError(RuntimeError):
    """A registered model that is not a skops pipeline made only of trusted types."""


def git_commit() -> str:
    """The code's commit (CRIME_WEATHER_GIT_COMMIT in images, `git` in a checkout)."""
    if commit := os.environ.get("CRIME_WEATHER_GIT_COMMIT"):
        return commit
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version an alias points at, or None when the model or the alias does not exist."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def log_model(run: RunLog, local: Path, tags: dict[str, str]) -> LoggedModel:
    """The saved model folder `local` as a READY LoggedModel of `run`'s experiment, from `run`: one
    copy of the artifacts, which the registered version points at."""
    client = run.client
    logged = client.create_logged_model(
        run.experiment_id, name="model", source_run_id=run.run_id, tags=tags, model_type="sklearn"
    )
    try:
        client.log_model_artifacts(logged.model_id, str(local))
    except Exception:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    return client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)


def register(run: RunLog, pipeline: Pipeline, example: pd.DataFrame, name: str, tags: dict[str, str]) -> str:
    """Log `pipeline` as an MLflow LoggedModel of the run (skops, our trusted types, a signature and an
    input example: MLflow's "Logged models" lists it), register it as a new version of `name` with
    `tags`, and return the version."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "model"
        mlflow.sklearn.save_model(
            pipeline,
            path=str(local),
            serialization_format="skops",
            skops_trusted_types=list(TRUSTED_TYPES),
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
        )
        logged = log_model(run, local, tags)
    client = run.client
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        name, source=logged.artifact_location, run_id=run.run_id, tags=tags, model_id=logged.model_id
    )
    # What MLflow's own register_model records: the logged model's page links to its versions (the
    # registry's SQL store keeps no model_id on a version).
    links = [{"name": name, "version": str(version.version)}]
    client.set_logged_model_tags(logged.model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(links)})
    return str(version.version)


def load_pipeline(tracking_uri: str, version: ModelVersion) -> Pipeline:
    """Download a version from the registry and load its sklearn pipeline with our trusted skops types."""
    import mlflow.artifacts
    import skops.io

    # Resolved through an explicit client, never through MLflow's process-wide default URIs.
    source = client_for(tracking_uri).get_model_version_download_uri(version.name, version.version)
    with tempfile.TemporaryDirectory() as folder:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=folder, tracking_uri=tracking_uri
            )
        )
        flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"].get("sklearn", {})
        if flavor.get("serialization_format") != "skops":
            raise UntrustedModelError(
                f"model {version.name} v{version.version} is serialized as "
                f"{flavor.get('serialization_format')!r}; only skops models are loaded"
            )
        path = local / flavor["pickled_model"]
        untrusted = set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise UntrustedModelError(
                f"model {version.name} v{version.version} holds untrusted types {sorted(untrusted)}"
            )
        return skops.io.load(path, trusted=list(TRUSTED_TYPES))


@dataclass(frozen=True)
class PromotionRecord:
    """The decision that made a version the champion: the paired difference (challenger - champion,
    mean Poisson deviance per comuna-day) with its 95 % CI, and the backtest folds it was measured on."""

    decision: str
    reason: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    folds: list[str]
    previous_champion: str | None


@dataclass(frozen=True)
class ChampionInfo:
    """What the API exposes at GET /model."""

    version: str
    run_id: str
    promoted_at: str | None
    metrics: dict[str, float]
    trained_months: list[str]
    dagster_run_id: str | None
    history_end: str | None = None  # the level is known up to this day; later dates get the last one
    config: dict[str, object] | None = None
    promotion: PromotionRecord | None = None
    card: str | None = None  # the version's model card (markdown: its MLflow description)


def _number(text: str | None) -> float | None:
    return float(text) if text else None


def promotion_record(tags: dict[str, str]) -> PromotionRecord | None:
    if f"{PROMOTION}decision" not in tags:
        return None
    return PromotionRecord(
        decision=tags[f"{PROMOTION}decision"],
        reason=tags.get(f"{PROMOTION}reason", ""),
        difference=_number(tags.get(f"{PROMOTION}difference")),
        ci_low=_number(tags.get(f"{PROMOTION}ci_low")),
        ci_high=_number(tags.get(f"{PROMOTION}ci_high")),
        folds=json.loads(tags.get(f"{PROMOTION}folds") or "[]"),
        previous_champion=tags.get(f"{PROMOTION}champion_version") or None,
    )


def describe_version(client: MlflowClient, version: ModelVersion) -> ChampionInfo:
    run = client.get_run(version.run_id)
    tags = version.tags or {}
    return ChampionInfo(
        version=str(version.version),
        run_id=version.run_id,
        promoted_at=tags.get(TAG_PROMOTED_AT),
        metrics=dict(run.data.metrics),
        trained_months=json.loads(tags.get(TAG_TRAINED_MONTHS, "[]")),
        dagster_run_id=tags.get(TAG_DAGSTER_RUN),
        history_end=tags.get(TAG_HISTORY_END),
        config=json.loads(tags[TAG_CONFIG]) if TAG_CONFIG in tags else None,
        promotion=promotion_record(tags),
        card=version.description or None,
    )
