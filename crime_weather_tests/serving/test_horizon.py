"""No number without evidence: every prediction says its horizon, and the API refuses (422) dates
before the champion's data or beyond the horizon its backtest validated; /model says both."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient
from mlflow.tracking import MlflowClient

from crime_weather_tests.serving.conftest import (
    DATA_THROUGH,
    FIRST_DAY,
    LAST_DAY,
    api_settings,
    register,
    runtime_for,
)
from harness.models import tracking_uri
from serving.app import create_app
from serving.settings import ApiSettings

PROBLEM_JSON = "application/problem+json"


def _predict(client: TestClient, day: str) -> tuple[int, dict]:
    response = client.post("/predict", json={"date": day, "comuna": 3, "temp_mean": 20.0})
    return response.status_code, response.json()


def test_predictions_carry_their_horizon_in_days(client: TestClient):
    assert (DATA_THROUGH.isoformat(), LAST_DAY.isoformat()) == ("2019-03-31", "2019-10-01")
    cases = {"2019-03-24": -7, "2019-03-31": 0, "2019-04-01": 1, LAST_DAY.isoformat(): 184}
    for day, horizon in cases.items():
        status, body = _predict(client, day)
        assert status == 200, body
        assert body["horizon_days"] == horizon
    batch = client.post(
        "/predict/batch",
        json={"observations": [{"date": day, "comuna": 1} for day in cases]},
    )
    assert batch.status_code == 200, batch.text
    assert [row["horizon_days"] for row in batch.json()["predictions"]] == list(cases.values())


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("2019-10-02", ["2019-10-02", "185 days", "data_through 2019-03-31", "at most 184 days"]),
        ("2030-01-01", ["2030-01-01", "data_through 2019-03-31", "at most 184 days"]),
        ("2018-12-31", ["2018-12-31", "before the model's first day of data (2019-01-01)"]),
    ],
)
def test_predict_refuses_a_date_outside_the_evidence(client: TestClient, day: str, words: list[str]):
    response = client.post("/predict", json={"date": day, "comuna": 3})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["type"] == "urn:crime-weather:problem:outside-evidence" and body["status"] == 422
    assert body["field"] == "date"
    for word in words:
        assert word in body["detail"] and word in body["reason"], (word, body)
    assert [error["field"] for error in body["errors"]] == ["date"]


def test_batch_refuses_naming_every_offending_row(client: TestClient):
    good = {"date": FIRST_DAY.isoformat(), "comuna": 1}
    days = ["2019-05-01", "2018-06-30", "2019-05-02", "2020-02-01", "2019-10-02"]
    observations = [{**good, "date": day} for day in days] + [good] * 10
    response = client.post("/predict/batch", json={"observations": observations})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    fields = ["observations[1].date", "observations[3].date", "observations[4].date"]
    assert [error["field"] for error in body["errors"]] == fields
    assert body["field"] == fields[0]
    assert body["detail"].startswith("3 date(s) outside the model's evidence")
    for field, day in zip(fields, ["2018-06-30", "2020-02-01", "2019-10-02"], strict=True):
        assert f"`{field}`: {day}" in body["detail"]
    assert "2018-06-30 is before the model's first day of data (2019-01-01)" in body["errors"][0]["reason"]


def test_the_limit_is_the_platform_setting(client: TestClient, registry: str, home: Path, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_MAX_HORIZON_DAYS", "30")
    assert ApiSettings().max_horizon_days == 30  # one variable for the platform and the API
    runtime = runtime_for(registry, home, api_settings(max_horizon_days=30))
    with TestClient(create_app(runtime)) as short:
        assert _predict(short, "2019-04-30")[0] == 200
        status, body = _predict(short, "2019-05-01")
        assert status == 422 and "at most 30 days" in body["detail"]
        model = short.get("/model").json()
        assert model["max_horizon_days"] == 30


def test_model_gives_data_through_the_limit_and_the_backtest_per_horizon(
    client: TestClient, tmp_path: Path, home: Path
):
    body = client.get("/model").json()
    assert body["data_through"] == "2019-03-31" and body["max_horizon_days"] == 184
    assert body["backtest"] == []  # the harness' run logged no backtest by horizon

    uri = tracking_uri(tmp_path / "registry")
    register(uri, seed=1)
    mlflow = MlflowClient(uri, uri)  # both named: no registry URI left in MLflow's globals answers
    run_id = mlflow.get_model_version_by_alias("crime_weather", "champion").run_id
    logged = {"poisson_deviance": 1.1, "pred_over_obs": 0.97, "coverage_80": 0.81, "coverage_95": 0.94}
    for horizon in (1, 2):
        for name, value in logged.items():
            mlflow.log_metric(run_id, f"backtest_h{horizon}_{name}", value + horizon / 100)
    mlflow.log_metric(run_id, "backtest_h1_best_naive_poisson_deviance", 1.3)
    with TestClient(create_app(runtime_for(uri, home))) as own:
        backtest = own.get("/model").json()["backtest"]
    assert [row["horizon_months"] for row in backtest] == [1, 2]
    assert backtest[0] == {
        "horizon_months": 1,
        "poisson_deviance": pytest.approx(1.11),
        "pred_over_obs": pytest.approx(0.98),
        "coverage_80": pytest.approx(0.82),
        "coverage_95": pytest.approx(0.95),
        "best_naive_poisson_deviance": pytest.approx(1.3),
    }
    assert backtest[1]["best_naive_poisson_deviance"] is None and backtest[1]["coverage_95"] == pytest.approx(
        0.96
    )
