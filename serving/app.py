"""The prediction API (README, "Call the API"): Litestar, msgspec structs, the champion followed live.

`create_app()` builds the app from settings; its lifespan loads the champion and starts the poller.
Prediction runs in worker threads (CPU work off the event loop); single predictions are coalesced by
the micro-batcher, a batch request is one model call. Errors are problem details (serving/errors.py);
every request is measured for /metrics and, if asked, logged (serving/instrument.py).
"""

from __future__ import annotations

import asyncio
import gc
import math
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import threadpoolctl
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.params import JSONBody

from crime_weather.core.settings import Settings, get_settings
from crime_weather.modeling.registry.versions import PromotionRecord
from serving.batching import MicroBatcher
from serving.decoding import StrictBody, close_struct_schemas
from serving.effects import EffectsCache, EffectsController
from serving.errors import Refused, problem_response, problem_specs
from serving.forecast import STATE_KEY as FORECASTS
from serving.forecast import ForecastController, ForecastReader
from serving.instrument import Instrumented, access_logger
from serving.metrics import CONTENT_TYPE, Metrics
from serving.model_store import Champion, ModelStore
from serving.predict import predict_rows
from serving.structs import (
    BatchPrediction,
    BatchRequest,
    Health,
    Liveness,
    ModelInfo,
    Observation,
    Prediction,
    Promotion,
    RowPrediction,
)


@dataclass
class Runtime:
    """What the handlers share, kept in `app.state.runtime`."""

    settings: Settings
    store: ModelStore
    metrics: Metrics
    freeze_gc: bool = False
    executor: ThreadPoolExecutor | None = None
    batcher: MicroBatcher[Champion, Observation, RowPrediction] | None = field(default=None)

    def champion(self) -> Champion:
        """The model a request runs on, read once: a swap mid-request does not change it."""
        champion = self.store.champion
        if champion is None:
            raise Refused(503, f"no model is loaded: {self.store.problem}")
        return champion

    async def run(
        self, champion: Champion, observations: list[Observation], source: str = "single"
    ) -> list[RowPrediction]:
        """One model call in a worker thread; `source` labels it in /metrics (`single` or `batch`)."""
        loop = asyncio.get_running_loop()
        values = await loop.run_in_executor(self.executor, predict_rows, champion, observations)
        self.metrics.model_call(source, len(observations))
        return values


def _runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


async def _require_body(request: Request) -> None:
    """An empty body never reaches the decoder (Litestar skips it); refuse it here, clearly."""
    if not await request.body():
        raise Refused(400, "request body is empty: send a JSON object", None, "empty body")


_PREDICT_ERRORS = problem_specs(400, 413, 503)
_NO_MODEL = problem_specs(503)
_NOT_READY = ResponseSpec(
    Health, generate_examples=False, description="No champion loaded; `reason` says why."
)


class PredictionController(Controller):
    tags = ("predictions",)

    @post(
        "/predict",
        dto=StrictBody[Observation],
        return_dto=None,
        before_request=_require_body,
        status_code=200,
        responses=_PREDICT_ERRORS,
        summary="Expected robberies for one (date, comuna) and its weather",
    )
    async def predict(self, data: JSONBody[Observation], state: State) -> Prediction:
        runtime = _runtime(state)
        champion = runtime.champion()
        assert runtime.batcher is not None
        row = await runtime.batcher.submit(champion, data)
        return Prediction(row.expected_robberies, champion.version, row.interval_80, row.interval_95)

    @post(
        "/predict/batch",
        dto=StrictBody[BatchRequest],
        return_dto=None,
        before_request=_require_body,
        status_code=200,
        responses=_PREDICT_ERRORS,
        summary="Expected robberies for many observations, in one model call",
    )
    async def predict_batch(self, data: JSONBody[BatchRequest], state: State) -> BatchPrediction:
        runtime = _runtime(state)
        limit = runtime.settings.api_max_batch
        if (count := len(data.observations)) > limit:
            reason = f"{count} observations; a batch holds at most {limit}"
            raise Refused(413, f"batch too large: {reason}", "observations", reason)
        champion = runtime.champion()
        rows = await runtime.run(champion, data.observations, "batch")
        return BatchPrediction(predictions=rows, model_version=champion.version)


class StatusController(Controller):
    tags = ("status",)

    @get("/model", responses=_NO_MODEL, summary="The champion and its lineage")
    async def model(self, state: State) -> ModelInfo:
        info = _runtime(state).champion().info
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
    async def health(self, state: State) -> Response[Health]:
        store = _runtime(state).store
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
    async def metrics(self, state: State) -> Response[bytes]:
        return Response(_runtime(state).metrics.exposition(), media_type=CONTENT_TYPE)


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


def _one_openmp_thread() -> None:
    """Model calls run single-threaded in OpenMP: concurrency comes from requests, and OpenMP's idle
    workers spin-wait after each call, starving the event loop (measured: 110 vs 1,700 req/s)."""
    threadpoolctl.threadpool_limits(1, user_api="openmp")


def _lifespan(runtime: Runtime) -> Any:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        settings = runtime.settings
        runtime.executor = ThreadPoolExecutor(
            settings.api_predict_threads, thread_name_prefix="predict", initializer=_one_openmp_thread
        )
        runtime.batcher = MicroBatcher(
            runtime.run, max_wait_s=settings.api_batch_wait_ms / 1000, max_rows=settings.api_batch_max_rows
        )
        store = runtime.store
        store.start(settings.api_poll_seconds)
        # Serve once the first look at the registry is done (or has taken too long): /health says the rest.
        await asyncio.get_running_loop().run_in_executor(
            None, store.first_attempt.wait, settings.api_registry_timeout_seconds + 5
        )
        if runtime.freeze_gc:
            # Everything loaded so far (MLflow, pandas, sklearn, the model) lives as long as the
            # process: keep it out of the cyclic GC, whose full passes over it stalled requests for
            # ~100 ms (p99 150 ms -> 18 ms at 16 connections).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            store.stop()
            await runtime.batcher.close()
            runtime.executor.shutdown(wait=False, cancel_futures=True)

    return lifespan


def create_app(settings: Settings | None = None, *, freeze_gc: bool = False) -> Litestar:
    """The API. `freeze_gc` is for a process that is only the API (`python -m serving`): it exempts
    everything loaded at startup from the cyclic GC, a process-wide change."""
    settings = settings or get_settings()
    store = ModelStore(settings.tracking_uri, settings.registered_model)
    runtime = Runtime(settings=settings, store=store, metrics=Metrics(store), freeze_gc=freeze_gc)
    app = Litestar(
        route_handlers=[PredictionController, StatusController, EffectsController, ForecastController],
        state=State(
            {
                "runtime": runtime,
                "effects": EffectsCache(settings.tracking_uri, settings.api_poll_seconds),
                FORECASTS: ForecastReader.from_settings(settings),
            }
        ),
        lifespan=[_lifespan(runtime)],
        request_max_body_size=settings.api_max_body_bytes,
        exception_handlers={Exception: problem_response},
        openapi_config=OpenAPIConfig(
            title="crime_weather",
            version="1.0.0",
            description="Expected robberies per comuna of Buenos Aires and day, from the weather.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path=["/swagger", "/"]), JsonRenderPlugin()],
        ),
    )
    close_struct_schemas(app)
    # Outside routing and its exception handling, so every request is measured, 404s and 500s included.
    logger = access_logger() if settings.api_access_log else None
    app.asgi_handler = Instrumented(app.asgi_handler, runtime.metrics, logger)
    return app
