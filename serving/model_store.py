"""Follows `models:/<name>@champion`: loads it, polls the alias, swaps atomically, survives MLflow outages.

The champion is one immutable object behind one attribute: a request reads it once and finishes on
that model even if a swap happens meanwhile. Registry errors never remove a loaded model, and there is
no fallback to a model file shipped anywhere: no champion in the registry means no predictions (503).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient
from sklearn.pipeline import Pipeline

from crime_weather.modeling.registry.versions import (
    CHAMPION,
    ChampionInfo,
    alias_version,
    describe_version,
    load_pipeline,
)
from serving.errors import Refused
from serving.horizon import DataWindow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    """A loaded model and its lineage; never mutated, only replaced."""

    pipeline: Pipeline
    info: ChampionInfo
    window: DataWindow  # the days of crime data it was trained on: horizons count from them
    loaded_at: float = field(default_factory=time.time)  # Unix time, for /metrics

    @property
    def version(self) -> str:
        return self.info.version


@dataclass(frozen=True)
class RegistryStatus:
    reachable: bool | None = None  # None: not asked yet
    error: str | None = None
    checked_at: datetime | None = None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text[:300]}"


class ModelStore:
    """The champion the API serves, refreshed from the registry by `refresh()` (a poller calls it)."""

    def __init__(self, tracking_uri: str, name: str, alias: str = CHAMPION) -> None:
        self.tracking_uri = tracking_uri
        self.name = name
        self.alias = alias
        self.champion: Champion | None = None
        self.registry = RegistryStatus()
        self.problem: str | None = "the registry has not been asked yet"
        self._refreshing = threading.Lock()
        self._stop = threading.Event()
        self.first_attempt = threading.Event()
        self._load_error: str | None = None
        self._poller: threading.Thread | None = None
        # Read by /metrics: champions loaded, and failed polls by reason ("unreachable", "load").
        self.loads = 0
        self.poll_failures: Counter[str] = Counter()

    def require_champion(self) -> Champion:
        """The model a request runs on, read once (a swap mid-request does not change it); 503 if none."""
        champion = self.champion
        if champion is None:
            raise Refused(503, f"no model is loaded: {self.problem}")
        return champion

    def refresh(self) -> bool:
        """Ask the registry where the alias points; load and swap when it moved. Never raises.

        Returns whether a new champion was loaded.
        """
        with self._refreshing:
            client = MlflowClient(self.tracking_uri, self.tracking_uri)
            try:
                version = alias_version(client, self.name, self.alias)
            except Exception as error:  # any failure to ask is an unreachable registry
                self.poll_failures["unreachable"] += 1
                self._record(reachable=False, error=f"registry unreachable: {_short(error)}")
                return False
            self._record(reachable=True, error=None)
            if version is None:
                self._no_model(f"no version of '{self.name}' has the alias @{self.alias} yet")
                return False
            current = self.champion
            if current is not None and (current.version, current.info.run_id) == (
                str(version.version),
                version.run_id,
            ):
                return False
            try:
                champion = self._load(client, version)
            except Exception as error:  # a bad or unreachable version: keep serving the last good one
                reason = f"cannot load {self.name} v{version.version}: {_short(error)}"
                if reason != self._load_error:  # once per problem, not once per poll
                    log.exception("%s; still serving v%s", reason, self._current())
                self._load_error = reason
                self.poll_failures["load"] += 1
                self._no_model(reason)
                return False
            self.champion = champion  # the atomic swap: one reference assignment
            self.loads += 1
            self.problem = self._load_error = None
            log.info(
                "serving %s v%s%s",
                self.name,
                champion.version,
                f" (was v{current.version})" if current else "",
            )
            return True

    def _load(self, client: MlflowClient, version: ModelVersion) -> Champion:
        pipeline = load_pipeline(self.tracking_uri, version)
        return Champion(
            pipeline=pipeline, info=describe_version(client, version), window=DataWindow.of(pipeline)
        )

    def _record(self, *, reachable: bool, error: str | None) -> None:
        if error and error != self.registry.error:
            log.warning("%s; still serving v%s", error, self._current())
        self.registry = RegistryStatus(reachable=reachable, error=error, checked_at=datetime.now(UTC))
        if self.champion is None and error:
            self.problem = f"no champion loaded yet: {error}"

    def _no_model(self, reason: str) -> None:
        if self.champion is None:
            self.problem = reason
        else:  # serving the last good model; the registry's state says what is wrong
            self.registry = RegistryStatus(reachable=True, error=reason, checked_at=datetime.now(UTC))

    def _current(self) -> str | None:
        return self.champion.version if self.champion else None

    # The poller: a daemon thread, so a hung registry call never blocks the event loop or shutdown.
    def start(self, interval_seconds: float) -> None:
        """Refresh now, then every `interval_seconds`, until `stop()`; `first_attempt` is set after the first."""

        def poll() -> None:
            self.refresh()
            self.first_attempt.set()
            while not self._stop.wait(interval_seconds):
                self.refresh()

        self._stop.clear()
        self.first_attempt.clear()
        self._poller = threading.Thread(target=poll, name=f"poll-{self.name}@{self.alias}", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=1)
            self._poller = None
