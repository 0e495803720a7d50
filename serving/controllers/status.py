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
from serving.structs.responses import Health, Liveness, ModelInfo, Promotion

_NOT_READY = ResponseSpec(
    Health, generate_examples=False, description="No champion loaded; `reason` says why."
)


class StatusController(Controller):
    tags = ("status",)

    @get("/model", responses=problem_specs(503), summary="The champion and its lineage")
    async def model(self, store: NamedDependency[ModelStore]) -> ModelInfo:
        info = store.require_champion().info
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
