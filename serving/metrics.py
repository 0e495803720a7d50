"""GET /metrics: the API's Prometheus metrics, in a registry of each app's own.

Per request (serving/instrument.py): a counter and a latency histogram by route, method and status,
and the requests in flight. Per model call: rows predicted and rows per call, by source (`single`:
micro-batched single predictions, `batch`: one /predict/batch request). Read at scrape time from the
model store: the champion's version (info), its age since promotion, loads, registry poll failures.
And how the champion's own claims fared once the truth landed (`crime_weather_live_*` by horizon
month, from the stored forecast_scorecard: LiveScoreCollector).

The hot path pays about a microsecond per request (RequestCollector); benchmarks/serving.py and
benchmarks/request_path.py measure the bare framework with and without it.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # the bare benchmark app uses Metrics without the model stack
    from serving.model_store import ModelStore
    from serving.scorecard_reader import ScorecardReader

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
        self.requests = RequestCollector()
        self.registry.register(self.requests)
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
        if store is not None:
            self.registry.register(ModelCollector(store))

    def watch_live_scores(self, store: ModelStore, scorecards: ScorecardReader) -> None:
        """Expose the serving champion's graded claims (LiveScoreCollector)."""
        self.registry.register(LiveScoreCollector(store, scorecards))

    def model_call(self, source: str, rows: int) -> None:
        self._predictions.labels(source).inc(rows)
        self._call_rows.labels(source).observe(rows)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RequestCollector(Collector):
    """Requests by (route, method, status): a counter and a latency histogram, plus those in flight.

    Kept as plain numbers, not prometheus_client metrics: only the event loop writes them (the
    instrumentation) and reads them (the /metrics handler), so no lock is needed, and a request costs
    a dict lookup, a bisection and three additions (~1 µs instead of ~5 with the locked client metrics).
    """

    def __init__(self) -> None:
        self.in_flight = 0
        # (route, method, status) -> [count in each latency bucket (non-cumulative), then +Inf, sum]
        self._series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        if (series := self._series.get((route, method, status))) is None:
            series = self._series[(route, method, status)] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: a bound's own value falls in it
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        labels = ("route", "method", "status")
        requests = CounterMetricFamily(f"{PREFIX}_requests", "HTTP requests answered.", labels=labels)
        latency = HistogramMetricFamily(
            f"{PREFIX}_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            labels=labels,
        )
        for (route, method, status), series in list(self._series.items()):
            values = [route, method, str(status)]
            cumulative = list(accumulate(series[:-1]))
            requests.add_metric(values, cumulative[-1])
            bounds = [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]
            latency.add_metric(values, list(zip(bounds, cumulative, strict=True)), series[-1])
        in_flight = GaugeMetricFamily(f"{PREFIX}_requests_in_progress", "HTTP requests being answered.")
        in_flight.add_metric([], self.in_flight)
        yield from (requests, latency, in_flight)


class ModelCollector(Collector):
    """The champion and the registry as the store sees them at scrape time (swaps need no bookkeeping)."""

    def __init__(self, store: ModelStore) -> None:
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


# gauge name -> (scorecard column, help): the figures of the checks `calibrated` and `beats_naive`.
LIVE_GAUGES: Final = {
    "crime_weather_live_pred_over_obs": (
        "pred_over_obs",
        "The serving champion's outlook: expected / observed robberies on its latest scored month, by "
        "horizon month (calibrated: 0.85..1.15).",
    ),
    "crime_weather_live_coverage_80": (
        "coverage_80",
        "The serving champion's outlook: share of observed counts inside its 80 % intervals on its latest "
        "scored month, by horizon month (calibrated: 0.70..0.90).",
    ),
    "crime_weather_live_deviance": (
        "poisson_deviance",
        "The serving champion's outlook: mean Poisson deviance per comuna-day on its latest scored month, "
        "by horizon month (beats_naive: no higher than the best naive level's).",
    ),
}


class LiveScoreCollector(Collector):
    """The serving champion's latest judged scores per horizon, from the scorecard last read (a scrape
    never waits for the warehouse: a stale read is refreshed in the background for the next one)."""

    def __init__(self, store: ModelStore, scorecards: ScorecardReader) -> None:
        self.store = store
        self.scorecards = scorecards

    def collect(self) -> Iterator[Metric]:
        champion = self.store.champion
        scores = self.scorecards.live(champion.version) if champion is not None else {}
        for name, (column, documentation) in LIVE_GAUGES.items():
            gauge = GaugeMetricFamily(name, documentation, labels=("horizon",))
            for horizon, row in sorted(scores.items()):
                if row[column] == row[column]:  # NaN (nothing observed) is left out
                    gauge.add_metric([str(horizon)], float(row[column]))
            yield gauge


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None
