"""GET /metrics: the API's Prometheus metrics, in a registry of each app's own.

Per request (serving/instrument.py): a counter and a latency histogram by route, method and status,
and the requests in flight. Per model call: rows predicted and rows per call, by source (`single`:
micro-batched single predictions, `batch`: one /predict/batch request). Read at scrape time from the
model store: the champion's version (info), its age since promotion, loads, registry poll failures.

The hot path pays a dict lookup, two increments and one observation per request: the labelled
children are created once per (route, method, status) and kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the bare benchmark app uses Metrics without the model stack
    from serving.model_store import ModelStore

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
PREFIX: Final = "crime_weather_api"
# Requests take ~1 ms alone and tens of ms under load or for big batches.
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
ROW_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 5000, 10_000)
UNMATCHED: Final = "unmatched"  # the route label of requests no route took (404, 405)

# No `*_created` series beside each counter and histogram: they double a scrape and say nothing here.
# (prometheus_client's one switch for it is process-wide; the API is the process.)
disable_created_metrics()


class Metrics:
    """Every metric the API exposes; `exposition()` is the body of GET /metrics."""

    def __init__(self, store: ModelStore | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("route", "method", "status")
        self._requests = Counter(
            f"{PREFIX}_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self._latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            f"{PREFIX}_requests_in_progress", "HTTP requests being answered.", registry=self.registry
        )
        self._predictions = Counter(
            f"{PREFIX}_predictions", "Predictions served (rows).", ("source",), registry=self.registry
        )
        self._call_rows = Histogram(
            f"{PREFIX}_model_call_rows",
            "Rows per model call: micro-batched single predictions (`single`) or one batch request (`batch`).",
            ("source",),
            buckets=ROW_BUCKETS,
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        if store is not None:
            self.registry.register(ModelCollector(store))

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        if (children := self._children.get(key)) is None:
            children = self._children[key] = (
                self._requests.labels(route, method, str(status)),
                self._latency.labels(route, method, str(status)),
            )
        children[0].inc()
        children[1].observe(seconds)

    def model_call(self, source: str, rows: int) -> None:
        self._predictions.labels(source).inc(rows)
        self._call_rows.labels(source).observe(rows)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class ModelCollector(Collector):
    """The champion and the registry as the store sees them at scrape time (swaps need no bookkeeping)."""

    def __init__(self, store: ModelStore | None = None) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        store, champion = self.store, self.store.champion
        loaded = GaugeMetricFamily(
            "crime_weather_model_loaded", "1 once a champion is loaded (the readiness of /health/ready)."
        )
        loaded.add_metric([], 1 if champion else 0)
        yield loaded
        info = InfoMetricFamily(
            "crime_weather_model", "The champion served.", labels=("registered_model", "version", "run_id")
        )
        age = GaugeMetricFamily(
            "crime_weather_model_age_seconds", "Seconds since the champion served was promoted."
        )
        loaded_at = GaugeMetricFamily(
            "crime_weather_model_loaded_timestamp_seconds",
            "When this process loaded the champion (Unix time).",
        )
        if champion is not None:
            info.add_metric(
                [],
                {"registered_model": store.name, "version": champion.version, "run_id": champion.info.run_id},
            )
            loaded_at.add_metric([], champion.loaded_at)
            if promoted := _timestamp(champion.info.promoted_at):
                age.add_metric([], max(0.0, time.time() - promoted))
        yield from (info, age, loaded_at)
        loads = CounterMetricFamily(
            "crime_weather_model_loads", "Champions loaded (the first and every swap)."
        )
        loads.add_metric([], store.loads)
        yield loads
        failures = CounterMetricFamily(
            "crime_weather_registry_poll_failures",
            "Registry polls that failed: the registry unreachable, or the new champion not loadable.",
            labels=("reason",),
        )
        for reason in ("unreachable", "load"):
            failures.add_metric([reason], store.poll_failures[reason])
        yield failures
        reachable = GaugeMetricFamily(
            "crime_weather_registry_reachable", "1 if the last poll reached the registry, 0 if not."
        )
        if store.registry.reachable is not None:
            reachable.add_metric([], 1 if store.registry.reachable else 0)
        yield reachable


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None
