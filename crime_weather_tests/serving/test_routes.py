"""Every route on the real app (TestClient) with a real registry: answers, lineage, health, schema."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from scipy.stats import poisson

from crime_weather.core.names import MODEL_INPUTS
from crime_weather_tests.serving.conftest import OBSERVATIONS, expected, register, runtime_for
from harness.models import tracking_uri
from serving.app import create_app
from serving.model_store import ModelStore
from serving.runtime import Runtime
from serving.structs.requests import Observation


def test_observation_fields_are_the_model_inputs():
    assert tuple(Observation.__struct_fields__) == MODEL_INPUTS


@pytest.mark.parametrize("index", range(len(OBSERVATIONS)))
def test_predict_answers_what_the_champion_predicts(client: TestClient, champion_v1: ModelStore, index: int):
    observation = OBSERVATIONS[index]
    response = client.post("/predict", json=observation)
    assert response.status_code == 200, response.text
    body = response.json()
    value = expected(champion_v1, [observation])[0]
    assert body["expected_robberies"] == value > 0 and body["model_version"] == "1"
    for level in (80, 95):
        low, high = poisson.ppf([(1 - level / 100) / 2, (1 + level / 100) / 2], value)
        assert body[f"interval_{level}"] == {"low": int(low), "high": int(high)}
    assert (
        body["interval_95"]["low"]
        <= body["interval_80"]["low"]
        <= value
        <= body["interval_80"]["high"]
        <= body["interval_95"]["high"]
    )


def test_an_integral_number_is_an_integer_comuna_as_json_schema_says(client: TestClient):
    as_int = client.post("/predict", json={"date": "2019-03-24", "comuna": 3}).json()
    assert client.post("/predict", content=b'{"date": "2019-03-24", "comuna": 3.0}').json() == as_int


def test_absent_and_null_weather_are_the_same_unknown(client: TestClient):
    absent = client.post("/predict", json={"date": "2019-03-24", "comuna": 3}).json()
    null = client.post("/predict", json={"date": "2019-03-24", "comuna": 3, "temp_mean": None}).json()
    warm = client.post("/predict", json={"date": "2019-03-24", "comuna": 3, "temp_mean": 30.0}).json()
    assert absent == null
    assert warm["expected_robberies"] != absent["expected_robberies"]  # the weather is used


def test_batch_is_one_model_call_in_request_order(
    client: TestClient, runtime: Runtime, champion_v1: ModelStore
):
    store = runtime.store
    calls: list[int] = []

    class Counting:
        def predict(self, frame):
            calls.append(len(frame))
            return champion_v1.champion.pipeline.predict(frame)

    store.champion = replace(store.champion, pipeline=Counting())
    observations = OBSERVATIONS * 40
    response = client.post("/predict/batch", json={"observations": observations})
    assert response.status_code == 200, response.text
    body = response.json()
    assert calls == [len(observations)]
    assert body["model_version"] == "1"
    assert [row["expected_robberies"] for row in body["predictions"]] == expected(champion_v1, observations)


def test_model_gives_the_lineage_of_the_champion(client: TestClient):
    response = client.get("/model")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "version",
        "run_id",
        "promoted_at",
        "metrics",
        "trained_months",
        "dagster_run_id",
        "history_end",
        "model_config",
        "promotion",
        "data_through",
        "max_horizon_days",
        "backtest",
        "model_card",
    }
    assert body["model_card"] is None  # registered without one: the retrain writes it (test_model.py)
    assert body["history_end"] == "2019-03-31"  # the level is known up to the last day trained on
    assert body["model_config"]["family"] == "hgb" and body["promotion"] is None  # registered, not promoted
    assert body["version"] == "1" and len(body["run_id"]) == 32
    assert body["trained_months"] == ["2019-01", "2019-02", "2019-03"]
    assert body["dagster_run_id"] == f"test-run-{body['run_id'][:8]}"
    assert body["promoted_at"] == "2026-01-01T00:00:00+00:00"
    assert body["metrics"]["test_poisson_deviance"] == pytest.approx(1.01)


def test_health_is_ready_with_the_version(client: TestClient):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["model_version"] == "1" and body["reason"] is None
    assert body["registry_reachable"] is True and body["registry_error"] is None
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json() == body  # /health is the readiness probe
    assert client.get("/health/live").json() == {"status": "live"}


def test_openapi_and_swagger_are_served(client: TestClient):
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert {
        "/predict",
        "/predict/batch",
        "/model",
        "/health",
        "/health/ready",
        "/health/live",
        "/metrics",
    } <= set(document["paths"])
    observation = document["components"]["schemas"]["Observation"]
    assert observation["additionalProperties"] is False
    assert observation["properties"]["precipitation_mm"]["minimum"] == 0.0  # a bound of 0 is not lost
    swagger = client.get("/schema/swagger")
    assert swagger.status_code == 200 and "swagger-ui" in swagger.text
    assert client.get("/schema").status_code == 200


def test_without_a_champion_nothing_is_predicted_until_one_appears(tmp_path: Path, home: Path):
    uri = tracking_uri(tmp_path / "empty-registry")
    runtime = runtime_for(uri, home)
    with TestClient(create_app(runtime)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert "no version of 'crime_weather' has the alias @champion" in health.json()["reason"]
        assert client.get("/health/ready").json() == health.json()
        live = client.get("/health/live")  # the process is fine: do not restart it, wait
        assert (live.status_code, live.json()) == (200, {"status": "live"})
        for response in (client.post("/predict", json=OBSERVATIONS[0]), client.get("/model")):
            assert response.status_code == 503
            assert "no model is loaded" in response.json()["detail"]

        register(uri, seed=5)
        assert runtime.store.refresh()  # what the poller does every poll_seconds
        assert client.get("/health").status_code == 200
        assert client.post("/predict", json=OBSERVATIONS[0]).json()["model_version"] == "1"


def test_each_batch_row_carries_its_poisson_intervals(client: TestClient, champion_v1: ModelStore):
    rows = client.post("/predict/batch", json={"observations": OBSERVATIONS}).json()["predictions"]
    values = expected(champion_v1, OBSERVATIONS)
    for level in (80, 95):
        low, high = (poisson.ppf(p, values) for p in ((1 - level / 100) / 2, (1 + level / 100) / 2))
        assert [row[f"interval_{level}"] for row in rows] == [
            {"low": int(a), "high": int(b)} for a, b in zip(low, high, strict=True)
        ]
