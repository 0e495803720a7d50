"""GET /metrics in the Prometheus text format, read back with prometheus_client's own parser."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from crime_weather_tests.serving.conftest import OBSERVATIONS
from harness.processes import free_port
from serving.runtime import Runtime


def scrape(client: TestClient) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} of one scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset:
    return frozenset(values.items())


def test_requests_are_counted_and_timed_by_route_method_and_status(client: TestClient):
    for observation in OBSERVATIONS[:3]:
        assert client.post("/predict", json=observation).status_code == 200
    assert client.post("/predict", json={"comuna": 3}).status_code == 400
    assert client.get("/nowhere").status_code == 404
    metrics = scrape(client)
    ok, bad = (
        labels(route="/predict", method="POST", status="200"),
        labels(route="/predict", method="POST", status="400"),
    )
    assert metrics[("crime_weather_api_requests_total", ok)] == 3
    assert metrics[("crime_weather_api_requests_total", bad)] == 1
    assert (
        metrics[("crime_weather_api_requests_total", labels(route="unmatched", method="GET", status="404"))]
        == 1
    )
    assert metrics[("crime_weather_api_request_duration_seconds_count", ok)] == 3
    assert 0 < metrics[("crime_weather_api_request_duration_seconds_sum", ok)] < 60
    assert metrics[("crime_weather_api_request_duration_seconds_bucket", ok | labels(le="+Inf"))] == 3
    assert metrics[("crime_weather_api_requests_in_progress", labels())] == 1  # the scrape itself
    assert not any(name.endswith("_created") for name, _ in metrics)
    # The scrape is counted once it is answered: the next one sees it.
    metrics_route = labels(route="/metrics", method="GET", status="200")
    assert scrape(client)[("crime_weather_api_requests_total", metrics_route)] == 1


def test_predictions_and_rows_per_model_call_by_source(client: TestClient):
    assert client.post("/predict/batch", json={"observations": OBSERVATIONS}).status_code == 200
    assert client.post("/predict", json=OBSERVATIONS[0]).status_code == 200
    metrics = scrape(client)
    assert metrics[("crime_weather_api_predictions_total", labels(source="batch"))] == len(OBSERVATIONS)
    assert metrics[("crime_weather_api_predictions_total", labels(source="single"))] == 1
    batch = labels(source="batch")
    assert metrics[("crime_weather_api_model_call_rows_count", batch)] == 1
    assert metrics[("crime_weather_api_model_call_rows_sum", batch)] == len(OBSERVATIONS)
    assert metrics[("crime_weather_api_model_call_rows_bucket", batch | labels(le="4.0"))] == 0
    assert metrics[("crime_weather_api_model_call_rows_bucket", batch | labels(le="8.0"))] == 1


def test_the_model_its_age_and_registry_poll_failures(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # as `python -m serving` sets it
    metrics = scrape(client)
    store = runtime.store
    champion = store.champion
    info = labels(registered_model="crime_weather", version="1", run_id=champion.info.run_id)
    assert metrics[("crime_weather_model_info", info)] == 1
    assert metrics[("crime_weather_model_loaded", labels())] == 1
    promoted = datetime.fromisoformat(champion.info.promoted_at).timestamp()  # 2026-01-01, by the harness
    assert metrics[("crime_weather_model_age_seconds", labels())] == pytest.approx(
        time.time() - promoted, abs=60
    )
    assert metrics[("crime_weather_model_loaded_timestamp_seconds", labels())] == champion.loaded_at
    assert metrics[("crime_weather_model_loads_total", labels())] == 1
    assert metrics[("crime_weather_registry_reachable", labels())] == 1
    assert metrics[("crime_weather_registry_poll_failures_total", labels(reason="unreachable"))] == 0

    store.tracking_uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a poll fails
    assert not store.refresh()
    metrics = scrape(client)
    assert metrics[("crime_weather_registry_poll_failures_total", labels(reason="unreachable"))] == 1
    assert metrics[("crime_weather_registry_reachable", labels())] == 0
    assert metrics[("crime_weather_model_info", info)] == 1  # still serving v1


def test_latency_buckets_are_cumulative_and_a_bound_holds_its_own_value():
    from prometheus_client import CollectorRegistry, generate_latest

    from serving.metrics import RequestCollector

    collector = RequestCollector()
    for seconds in (0.001, 0.0011, 3.0):
        collector.observe("/predict", "POST", 200, seconds)
    registry = CollectorRegistry()
    registry.register(collector)
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
    }
    bucket = "crime_weather_api_request_duration_seconds_bucket"
    assert samples[(bucket, "0.001")] == 1
    assert samples[(bucket, "0.0025")] == 2
    assert samples[(bucket, "2.5")] == 2
    assert samples[(bucket, "+Inf")] == 3
    assert samples[("crime_weather_api_request_duration_seconds_count", None)] == 3
    assert samples[("crime_weather_api_request_duration_seconds_sum", None)] == pytest.approx(3.0021)
    assert samples[("crime_weather_api_requests_total", None)] == 3
