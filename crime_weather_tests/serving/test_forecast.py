"""GET /forecast on the real app: the warehouse the platform writes (a folder, or S3 on moto's server)."""

from __future__ import annotations

import datetime as dt

import boto3
import pandas as pd
import pytest
from litestar.testing import TestClient

from crime_weather.core.storage import S3Store, frame_to_parquet
from crime_weather.modeling.forecasting.forecast import forecast_table
from crime_weather.modeling.forecasting.horizon import data_through
from crime_weather.sources.forecast import read_forecast
from crime_weather_tests import builders
from crime_weather_tests.serving.conftest import runtime_for
from serving.app import create_app
from serving.model_store import ModelStore

ISSUE = dt.date(2026, 11, 29)


def _issue(champion: ModelStore, issue: dt.date, version: str, max_horizon_days: int = 3000) -> pd.DataFrame:
    """An issue of robbery_forecast as the asset writes it: the champion's predictions on a forecast.
    The champion's data end 2019-03-31: trusted 3000 days ahead, it gives counts in 2026."""
    weather = read_forecast(builders.forecast_json(issue), "f.json", ["open-meteo"]).window(issue, 7)
    pipeline = champion.champion.pipeline
    return forecast_table(
        weather,
        pipeline.predict,
        model_version=version,
        weather_source="https://api.open-meteo.com/v1/forecast",
        issued_at=pd.Timestamp(f"{issue}T10:00:00Z"),
        data_through=data_through(pipeline),
        max_horizon_days=max_horizon_days,
    )


@pytest.fixture
def warehouse(home, champion_v1):
    """Two issues in the warehouse folder: the API must answer the newer."""
    folder = home / "warehouse" / "robbery_forecast"
    folder.mkdir(parents=True)
    for issue, version in ((ISSUE - dt.timedelta(days=1), "1"), (ISSUE, "7")):
        (folder / f"{issue}.parquet").write_bytes(frame_to_parquet(_issue(champion_v1, issue, version)))
    return folder


def test_before_any_forecast_a_404_says_why(client: TestClient):
    response = client.get("/forecast")
    assert response.status_code == 404
    body = response.json()
    assert body["detail"].startswith("no forecast has been issued yet: one is issued every morning")
    assert body["reason"] and body["field"] is None


def test_the_latest_issue_with_intervals_and_the_weather_used(client: TestClient, warehouse, champion_v1):
    response = client.get("/forecast")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["issue_date"], body["model_version"]) == (str(ISSUE), "7")
    assert body["issued_at"].startswith(f"{ISSUE}T10:00:00") and body["weather_source"] == "open-meteo"
    rows = body["rows"]
    assert len(rows) == 7 * 15 and [row["comuna"] for row in rows[:15]] == list(range(1, 16))
    expected = _issue(champion_v1, ISSUE, "7").iloc[0]
    first = rows[0]
    assert first["date"] == str(ISSUE) and first["expected_robberies"] == pytest.approx(
        expected["expected_robberies"]
    )
    assert first["interval_80"] == {"low": expected["interval_80_low"], "high": expected["interval_80_high"]}
    assert first["interval_95"] == {"low": expected["interval_95_low"], "high": expected["interval_95_high"]}
    assert first["interval_95"]["low"] <= first["interval_80"]["low"] <= first["interval_80"]["high"]
    assert (first["temp_mean"], first["precipitation_mm"]) == (19.0, 0.0)
    assert (
        body["data_through"] == "2019-03-31" and first["horizon_days"] == (ISSUE - dt.date(2019, 3, 31)).days
    )
    assert first["reason"] is None and first["weather_rate_ratio"] == pytest.approx(
        expected["weather_rate_ratio"]
    )
    assert rows[-1]["pressure_hpa"] is None  # the forecast had no pressure for its last day


def test_filters_by_comuna_and_days(client: TestClient, warehouse):
    one = client.get("/forecast", params={"comuna": 3}).json()["rows"]
    assert len(one) == 7 and {row["comuna"] for row in one} == {3}
    two_days = client.get("/forecast", params={"days": 2}).json()["rows"]
    assert len(two_days) == 30 and {row["date"] for row in two_days} == {str(ISSUE), "2026-11-30"}
    both = client.get("/forecast", params={"comuna": 15, "days": 1}).json()["rows"]
    assert [(row["date"], row["comuna"]) for row in both] == [(str(ISSUE), 15)]


@pytest.mark.parametrize(
    ("query", "field"),
    [("comuna=0", "comuna"), ("comuna=16", "comuna"), ("days=8", "days"), ("days=abc", "days")],
)
def test_bad_filters_are_refused_naming_the_field(client: TestClient, warehouse, query: str, field: str):
    response = client.get(f"/forecast?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field and body["detail"].startswith(f"invalid `{field}`: ")


def test_a_new_version_of_the_latest_issue_is_read_again(client: TestClient, warehouse, champion_v1):
    assert client.get("/forecast").json()["model_version"] == "7"
    (warehouse / f"{ISSUE}.parquet").write_bytes(frame_to_parquet(_issue(champion_v1, ISSUE, "8")))
    assert client.get("/forecast").json()["model_version"] == "8"


def test_the_openapi_schema_documents_the_filters_and_the_404(client: TestClient):
    document = client.get("/schema/openapi.json").json()
    operation = document["paths"]["/forecast"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
    assert (parameters["comuna"]["minimum"], parameters["comuna"]["maximum"]) == (1, 15)
    assert (parameters["days"]["minimum"], parameters["days"]["maximum"]) == (1, 7)
    assert {"200", "400", "404"} <= set(operation["responses"])
    forecast = document["components"]["schemas"]["Forecast"]
    assert set(forecast["required"]) == {
        "issue_date",
        "issued_at",
        "model_version",
        "weather_source",
        "data_through",
        "max_horizon_days",
        "rows",
    }


def test_the_api_reads_a_warehouse_in_s3(registry, home, moto_s3, champion_v1):
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="data")
    S3Store("s3://data/wh", moto_s3).write(
        f"robbery_forecast/{ISSUE}.parquet", frame_to_parquet(_issue(champion_v1, ISSUE, "5"))
    )
    runtime = runtime_for(registry, home, warehouse_uri="s3://data/wh", s3_endpoint_url=moto_s3)
    with TestClient(create_app(runtime)) as client:
        body = client.get("/forecast", params={"days": 1}).json()
    assert body["model_version"] == "5" and len(body["rows"]) == 15


def test_a_stale_forecast_has_no_counts_but_the_weather_rate_ratio(client: TestClient, home, champion_v1):
    """The champion's data end 2019-03-31; a forecast for 2026 is far beyond its 184 days."""
    table = _issue(champion_v1, ISSUE, "9", max_horizon_days=184)
    folder = home / "warehouse" / "robbery_forecast"
    folder.mkdir(parents=True)
    (folder / f"{ISSUE}.parquet").write_bytes(frame_to_parquet(table))
    body = client.get("/forecast").json()
    assert (body["data_through"], body["max_horizon_days"]) == ("2019-03-31", 184)
    assert body["weather_source"] == "open-meteo" and "/" not in body["weather_source"]
    rows = body["rows"]
    assert len(rows) == 7 * 15
    assert all(row["expected_robberies"] is None and row["interval_80"] is None for row in rows)
    assert all(row["interval_95"] is None and "184 days" in row["reason"] for row in rows)
    ratios = table.sort_values(["date", "comuna"])["weather_rate_ratio"].tolist()
    assert [row["weather_rate_ratio"] for row in rows] == pytest.approx(ratios, abs=1e-12)
    assert all(row["weather_rate_ratio"] > 0 for row in rows)
