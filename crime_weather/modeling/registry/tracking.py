"""MLflow runs written through an explicit client, never through MLflow's process-wide state.

MLflow's fluent API (`mlflow.start_run`, `mlflow.log_*`, `mlflow.sklearn.log_model`) reads the tracking
URI, the registry URI and the active run from globals: two trainings in one process, or a test beside
the platform, would write into each other. Every write here names its client and its run.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

PARENT_RUN_TAG = "mlflow.parentRunId"  # how MLflow nests runs (what `nested=True` writes)
_BATCH = 100  # MLflow's log_batch accepts at most 100 params / 1000 metrics per call


def client_for(tracking_uri: str) -> MlflowClient:
    """One client for tracking and registry alike (the platform keeps both in one MLflow)."""
    return MlflowClient(tracking_uri, tracking_uri)


def experiment_id(client: MlflowClient, name: str, artifact_location: str | None = None) -> str:
    """The experiment's id, created on first use."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location)
    except MlflowException:  # created meanwhile by another process
        return client.get_experiment_by_name(name).experiment_id


@dataclass(frozen=True)
class RunLog:
    """One MLflow run and the client that writes it."""

    client: MlflowClient
    run_id: str
    experiment_id: str

    def params(self, values: Mapping[str, Any]) -> None:
        items = [Param(key, str(value)) for key, value in values.items()]
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + _BATCH])

    def metrics(self, values: Mapping[str, float]) -> None:
        now = int(time.time() * 1000)
        items = [Metric(key, float(value), now, 0) for key, value in values.items()]
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, metrics=items[start : start + _BATCH])

    def tags(self, values: Mapping[str, str]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(key, str(value)) for key, value in values.items()])

    def json(self, value: Any, name: str) -> None:
        self.client.log_text(self.run_id, json.dumps(value, indent=1, default=str), name)

    def png(self, data: bytes, name: str) -> None:
        self.artifact(data, name)

    def table(self, frame: pd.DataFrame, name: str) -> None:
        self.client.log_text(self.run_id, frame.to_csv(index=False), name)

    def artifact(self, data: bytes, name: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(name).name
            path.write_bytes(data)
            parent = str(Path(name).parent)
            self.client.log_artifact(self.run_id, str(path), None if parent == "." else parent)

    def folder(self, local: Path, name: str) -> None:
        self.client.log_artifacts(self.run_id, str(local), name)

    @property
    def artifact_uri(self) -> str:
        return self.client.get_run(self.run_id).info.artifact_uri

    def end(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status)


def read_artifact(client: MlflowClient, run_id: str, path: str) -> bytes | None:
    """An artifact's bytes, or None when the run has none at `path` (e.g. a model registered elsewhere)."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            local = client.download_artifacts(run_id, path, folder)
        except (MlflowException, OSError):
            return None
        return Path(local).read_bytes()


def start_run(
    client: MlflowClient,
    experiment: str,
    name: str,
    tags: Mapping[str, str] | None = None,
    parent: RunLog | None = None,
) -> RunLog:
    tags = {**(tags or {}), **({PARENT_RUN_TAG: parent.run_id} if parent else {})}
    run = client.create_run(experiment, run_name=name, tags=tags)
    return RunLog(client, run.info.run_id, experiment)


@contextmanager
def run(
    client: MlflowClient,
    experiment: str,
    name: str,
    tags: Mapping[str, str] | None = None,
    parent: RunLog | None = None,
) -> Iterator[RunLog]:
    """A run that ends FINISHED, or FAILED when the body raises."""
    log = start_run(client, experiment, name, tags, parent)
    try:
        yield log
    except BaseException:
        log.end("FAILED")
        raise
    log.end()
