"""GET /model, /health, /health/live and /metrics: the champion, readiness, liveness and measurements."""

from __future__ import annotations

import math

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from crime_weather.modeling.registry.versions import PromotionRecord
from serving.errors import problem_specs
from serving.metrics import CONTENT_TYPE, Metrics
from serving.model_store import ModelStore
from serving.predictor import Predictor
from serving.structs.responses import Health, HorizonBacktest, Liveness, ModelInfo, Promotion

_BACKTEST_MONTHS = range(1, 7)
_BACKTEST_FIELDS = (
    "poisson_deviance",
    "pred_over_obs",
    "coverage_80",
    "coverage_95",
    "best_naive_poisson_deviance",
)
_NOT_READY = ResponseSpec(
    Health, generate_examples=False, description="No champion loaded; `reason` says why."
)


class StatusController(Controller):
    tags = ("status",)

    @get("/model", responses=problem_specs(503), summary="The champion and its lineage")
    async def model(
        self, store: NamedDependency[ModelStore], predictor: NamedDependency[Predictor]
    ) -> ModelInfo:
        champion = store.require_champion()
        info = champion.info
        return ModelInfo(
            version=info.version,
            run_id=info.run_id,
            promoted_at=info.promoted_at,
            metrics={name: value if math.isfinite(value) else None for name, value in info.metrics.items()},
            trained_months=info.trained_months,
            dagster_run_id=info.dagster_run_id,
            history_end=info.history_end,
            model_config=info.config,
            promotion=_promotion(info.promotion),
            data_through=champion.window.through(),
            max_horizon_days=predictor.max_horizon_days,
            backtest=_backtest(info.metrics),
            model_card=info.card,
        )

    @get(
        ["/health", "/health/ready"],
        responses={503: _NOT_READY, **problem_specs()},
        summary="Readiness: 200 once a champion is loaded, else 503",
    )
    async def health(self, store: NamedDependency[ModelStore]) -> Response[Health]:
        champion, registry = store.champion, store.registry
        body = Health(
            status="ready" if champion else "unavailable",
            reason=None if champion else store.problem,
            model_version=champion.version if champion else None,
            registry_reachable=registry.reachable,
            registry_error=registry.error,
            registry_checked_at=registry.checked_at,
        )
        return Response(body, status_code=200 if champion else 503)

    @get("/health/live", responses=problem_specs(), summary="Liveness: 200 whenever the process answers")
    async def live(self) -> Liveness:
        return Liveness()

    @get(
        "/metrics",
        media_type=CONTENT_TYPE,
        responses=problem_specs(),
        summary="Prometheus metrics: requests, latency, predictions, batch sizes, the model",
    )
    async def metrics(self, metrics: NamedDependency[Metrics]) -> Response[bytes]:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _backtest(metrics: dict[str, float]) -> list[HorizonBacktest]:
    """The run's `backtest_h{h}_*` metrics, one row per horizon month that has any."""
    rows = []
    for month in _BACKTEST_MONTHS:
        values = {name: _finite(metrics.get(f"backtest_h{month}_{name}")) for name in _BACKTEST_FIELDS}
        if any(f"backtest_h{month}_{name}" in metrics for name in _BACKTEST_FIELDS):
            rows.append(HorizonBacktest(horizon_months=month, **values))
    return rows


def _promotion(record: PromotionRecord | None) -> Promotion | None:
    if record is None:
        return None
    return Promotion(
        decision=record.decision,
        reason=record.reason,
        difference=record.difference,
        ci_low=record.ci_low,
        ci_high=record.ci_high,
        folds=record.folds,
        previous_champion=record.previous_champion,
    )
