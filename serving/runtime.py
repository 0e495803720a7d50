"""What the API holds for its whole life, built once from settings, and how handlers receive it.

The handlers never reach into the app's state: each declares what it needs by name and type
(`store: NamedDependency[ModelStore]`) and Litestar injects it from `Runtime.dependencies()`. Every
value is built once, so every provider is cached: after the first request, resolving one is a
cached lookup, not a call (benchmarks/request_path.py measures the request path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.di import Provide

from crime_weather.core.settings import Settings, get_settings
from serving.boundaries_reader import BoundariesReader
from serving.effects_reader import EffectsReader
from serving.forecast_reader import ForecastReader
from serving.metrics import Metrics
from serving.model_store import ModelStore
from serving.page.champion import VerdictReader
from serving.predictor import Predictor
from serving.scorecard_reader import ScorecardReader
from serving.settings import ApiSettings


@dataclass(frozen=True)
class Runtime:
    """The champion's store, what runs it, the readers and the metrics: one of each per app."""

    settings: ApiSettings
    store: ModelStore
    metrics: Metrics
    predictor: Predictor
    effects: EffectsReader
    forecasts: ForecastReader
    boundaries: BoundariesReader
    verdicts: VerdictReader
    scorecards: ScorecardReader

    @classmethod
    def from_settings(cls, platform: Settings | None = None, api: ApiSettings | None = None) -> Runtime:
        """`platform`: where the registry and the warehouse are (shared with the whole platform);
        `api`: how the API behaves (CRIME_WEATHER_API_*). Both default to the environment."""
        platform = platform or get_settings()
        api = api or ApiSettings()
        store = ModelStore(platform.tracking_uri, platform.registered_model)
        metrics = Metrics(store)
        scorecards = ScorecardReader.from_settings(platform, ttl=api.poll_seconds)
        metrics.watch_live_scores(store, scorecards)
        return cls(
            settings=api,
            store=store,
            metrics=metrics,
            predictor=Predictor(api, store, metrics),
            effects=EffectsReader(store, platform.tracking_uri, ttl=api.poll_seconds),
            forecasts=ForecastReader.from_settings(platform, api.max_horizon_days),
            boundaries=BoundariesReader.from_settings(platform),
            verdicts=VerdictReader(platform.tracking_uri),
            scorecards=scorecards,
        )

    def dependencies(self) -> dict[str, Provide]:
        """The app's dependencies, keyed by the handler parameters that receive them."""
        return {
            "store": _constant(self.store),
            "metrics": _constant(self.metrics),
            "predictor": _constant(self.predictor),
            "effects": _constant(self.effects),
            "forecasts": _constant(self.forecasts),
            "boundaries": _constant(self.boundaries),
            "verdicts": _constant(self.verdicts),
            "scorecards": _constant(self.scorecards),
        }


def _constant(value: Any) -> Provide:
    """A provider of one value for the app's lifetime: cached, called inline (never in a thread)."""

    def provide() -> Any:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)
