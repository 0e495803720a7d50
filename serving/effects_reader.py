"""The champion's weather effects (GET /effects), read from `weather_effects.json` in its MLflow run.

The asset writes them after the champion is decided, and again after each retrain (into the same
run when the champion stays), so they are re-read once they are `ttl` seconds old rather than kept
forever; a run that has none yet is asked again after the same delay. An unreachable registry does
not take away effects already read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import msgspec

from crime_weather.modeling.effects.artifacts import EFFECTS_JSON, read_effects
from crime_weather.modeling.registry.tracking import client_for
from serving.errors import Refused
from serving.model_store import Champion, ModelStore
from serving.structs.responses import WeatherEffects


@dataclass(frozen=True)
class _Read:
    run_id: str
    at: float
    effects: WeatherEffects | None


class EffectsReader:
    """The effects of the store's champion: the last read, per run, refreshed after `ttl` seconds."""

    def __init__(self, store: ModelStore, tracking_uri: str, ttl: float) -> None:
        self.store = store
        self.tracking_uri = tracking_uri
        self.ttl = ttl
        self._last: _Read | None = None
        self._lock = threading.Lock()

    def current(self) -> WeatherEffects:
        """The effects of the champion served now; 503 without one. Blocks on MLflow: call it off the loop."""
        return self.get(self.store.require_champion())

    def get(self, champion: Champion) -> WeatherEffects:
        """The effects, or Refused: 404 when the run has none, 503 when MLflow cannot be read."""
        run_id = champion.info.run_id
        with self._lock:
            last = self._last
            if last is None or last.run_id != run_id or time.monotonic() - last.at > self.ttl:
                try:
                    last = _Read(run_id, time.monotonic(), self._read(champion))
                except Exception as error:  # the registry is down: what was read stays served
                    if last is None or last.run_id != run_id or last.effects is None:
                        reason = f"cannot read {EFFECTS_JSON} from MLflow: {type(error).__name__}: {error}"
                        raise Refused(503, reason[:500]) from error
                self._last = last
        if last.effects is None:
            reason = f"champion v{champion.version} has no weather effects yet"
            raise Refused(
                404,
                f"{reason}: run {run_id} holds no {EFFECTS_JSON}; the weather_effects asset writes it "
                "after each retrain",
                None,
                reason,
            )
        return last.effects

    def _read(self, champion: Champion) -> WeatherEffects | None:
        payload = read_effects(client_for(self.tracking_uri), champion.info.run_id)
        if payload is None:
            return None
        lineage = payload.get("lineage", {})
        return msgspec.convert(
            {
                "model_version": champion.version,
                "run_id": champion.info.run_id,
                "computed_at": lineage.get("computed_at"),
                "dagster_run_id": lineage.get("dagster_run_id"),
                "effects": payload["effects"],
                "by_comuna": payload["by_comuna"],
                "estimation": payload["model"],
            },
            WeatherEffects,
        )
