"""Runs the champion for the prediction handlers: model calls in worker threads, singles micro-batched.

Prediction is CPU work and must stay off the event loop; concurrent single predictions share one
model call (serving/batching.py), a batch request is one model call of its own. The threads and the
batcher exist while the app runs: the lifespan starts and stops them (serving/lifespan.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import threadpoolctl

from serving.batching import MicroBatcher
from serving.metrics import Metrics
from serving.model_store import Champion, ModelStore
from serving.predict import predict_rows
from serving.settings import ApiSettings
from serving.structs.requests import Observation
from serving.structs.responses import RowPrediction


def _one_openmp_thread() -> None:
    """Model calls run single-threaded in OpenMP: concurrency comes from requests, and OpenMP's idle
    workers spin-wait after each call, starving the event loop (measured: 110 vs 1,700 req/s)."""
    threadpoolctl.threadpool_limits(1, user_api="openmp")


class Predictor:
    """Model calls on the champion of `store`; `max_batch` bounds what one batch request may ask."""

    def __init__(self, settings: ApiSettings, store: ModelStore, metrics: Metrics) -> None:
        self.store = store
        self.max_batch = settings.max_batch
        self.max_horizon_days = settings.max_horizon_days
        self._threads = settings.predict_threads
        self._max_wait_s = settings.batch_wait_ms / 1000
        self._max_rows = settings.batch_max_rows
        self._metrics = metrics
        self._executor: ThreadPoolExecutor | None = None
        self._batcher: MicroBatcher[Champion, Observation, RowPrediction] | None = None

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(
            self._threads, thread_name_prefix="predict", initializer=_one_openmp_thread
        )
        self._batcher = MicroBatcher(self.run, max_wait_s=self._max_wait_s, max_rows=self._max_rows)

    async def stop(self) -> None:
        if self._batcher is not None:
            await self._batcher.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, champion: Champion, observation: Observation) -> RowPrediction:
        """One observation, in a model call shared with those that arrive meanwhile."""
        if self._batcher is None:
            raise RuntimeError("the predictor is not started: the app's lifespan starts it")
        return await self._batcher.submit(champion, observation)

    async def run(
        self, champion: Champion, observations: list[Observation], source: str = "single"
    ) -> list[RowPrediction]:
        """One model call in a worker thread; `source` labels it in /metrics (`single` or `batch`)."""
        loop = asyncio.get_running_loop()
        values = await loop.run_in_executor(self._executor, predict_rows, champion, observations)
        self._metrics.model_call(source, len(observations))
        return values
