"""GET /scorecard and the live_* gauges on the real app, over a scorecard the platform's own code scored
(modeling.forecasting.scorecard) and stored (core.storage) in the warehouse: a folder, or S3 on moto."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pandas as pd
import pytest
from litestar.testing import TestClient

from crime_weather.core.names import NAIVE_COLUMNS, SCORECARD_TABLE
from crime_weather.core.settings import Settings
from crime_weather.core.storage import LocalStore, S3Store, frame_to_parquet, open_store
from crime_weather.modeling.forecasting.forecast import forecast_table
from crime_weather.modeling.forecasting.horizon import data_through
from crime_weather.modeling.forecasting.outlook import outlook_table
from crime_weather.modeling.forecasting.scorecard import month_claims, score_claims
from crime_weather.tables.schemas import forecast_scorecard_schema
from crime_weather_tests.serving.conftest import runtime_for
from crime_weather_tests.serving.test_metrics import labels, scrape
from harness.models import synthetic_features
from serving.app import create_app
from serving.model_store import ModelStore
from serving.scorecard_reader import ScorecardReader

TRAINED = ["2019-01", "2019-02", "2019-03"]  # what the registry fixture's version 1 was trained on
SCORED = ["2019-04", "2019-05", "2019-06", "2019-07", "2019-08", "2019-09", "2019-10"]
ISSUE = "2019-04-10"
GAUGES = {
    "crime_weather_live_pred_over_obs": "pred_over_obs",
    "crime_weather_live_coverage_80": "coverage_80",
    "crime_weather_live_deviance": "poisson_deviance",
}


@pytest.fixture(scope="module")
def scorecards(champion_v1: ModelStore) -> dict[str, pd.DataFrame]:
    """Each month's forecast_scorecard as the asset computes it: the outlooks of v1 (the champion) and
    v2 (a 30 % higher claim), and one forecast issue of v1, against synthetic counts."""
    pipeline = champion_v1.champion.pipeline
    history = pd.concat(synthetic_features(TRAINED, seed=1).values(), ignore_index=True)
    v1 = outlook_table(pipeline, "1", history, issued_at=pd.Timestamp("2019-04-02T10:00:00Z"))
    v2 = outlook_table(pipeline, "2", history, issued_at=pd.Timestamp("2019-04-03T10:00:00Z"))
    v2["expected_robberies"] *= 1.3
    observed = synthetic_features(SCORED, seed=2)
    weather = observed["2019-04"].groupby("date", as_index=False).first().query(f"date >= '{ISSUE}'").head(7)
    issue = forecast_table(
        weather,
        pipeline.predict,
        model_version="1",
        weather_source="test",
        issued_at=pd.Timestamp(f"{ISSUE}T10:00:00Z"),
        data_through=data_through(pipeline),
    )
    tables = {}
    for month in SCORED:
        claims = month_claims({"1": v1, "2": v2}, {ISSUE: issue}, month)
        scored = score_claims(claims, observed[month])
        assert scored.reason is None
        tables[month] = forecast_scorecard_schema(month).validate(scored.table)
    return tables


def store(warehouse: LocalStore | S3Store, tables: dict[str, pd.DataFrame]) -> None:
    """Where the asset's IO manager puts them: <warehouse>/forecast_scorecard/<YYYY-MM>.parquet."""
    for month, table in tables.items():
        warehouse.write(f"{SCORECARD_TABLE}/{month}.parquet", frame_to_parquet(table))


@pytest.fixture
def warehouse(home: Path, scorecards: dict[str, pd.DataFrame]) -> LocalStore:
    folder = open_store(Settings(home=home).warehouse)
    assert isinstance(folder, LocalStore)
    store(folder, scorecards)
    return folder


def _stored(tables: dict[str, pd.DataFrame], **where: object) -> pd.DataFrame:
    table = pd.concat(tables.values(), ignore_index=True)
    for column, value in where.items():
        table = table[table[column] == value]
    return table


def _keys(rows: list[dict]) -> list[tuple]:
    return [(row["month"], row["source"], row["source_key"], row["horizon"]) for row in rows]


def _table_keys(table: pd.DataFrame) -> list[tuple]:
    columns = ["month", "source", "source_key", "horizon"]
    return [tuple(key) for key in table[columns].itertuples(index=False, name=None)]


def test_before_anything_is_scored_a_404_says_why(client: TestClient, home: Path):
    response = client.get("/scorecard")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["detail"].startswith("nothing has been scored yet: forecast_scorecard grades a month")
    assert body["reason"] and body["field"] is None


def test_every_stored_row_with_the_stored_figures(client: TestClient, warehouse, scorecards):
    response = client.get("/scorecard")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scored_months"] == SCORED and body["serving_champion"] == "1"
    stored = _stored(scorecards)
    assert _keys(body["rows"]) == _table_keys(stored)
    april_outlook = next(
        row for row in body["rows"] if row["month"] == "2019-04" and row["source_key"] == "1"
    )
    expected = stored[(stored["month"] == "2019-04") & (stored["source_key"] == "1")].iloc[0]
    assert (april_outlook["horizon_unit"], april_outlook["horizon"], april_outlook["n"]) == (
        "month",
        1,
        30 * 15,
    )
    assert april_outlook["issued_at"].startswith("2019-04-02T10:00:00")
    for field in ("observed_robberies", "expected_robberies", "poisson_deviance", "mae", "pred_over_obs"):
        assert april_outlook[field] == pytest.approx(expected[field], rel=1e-12)
    for field in ("coverage_80", "coverage_95", "best_naive_poisson_deviance"):
        assert april_outlook[field] == pytest.approx(expected[field], rel=1e-12)
    assert (
        set(april_outlook["naive"]) == set(NAIVE_COLUMNS)
        and april_outlook["best_naive"] == expected["best_naive"]
    )
    assert april_outlook["naive"]["naive_28d"]["mae"] == pytest.approx(expected["naive_28d_mae"], rel=1e-12)
    forecast = [row for row in body["rows"] if row["source"] == "forecast"]
    assert [row["horizon"] for row in forecast] == list(range(1, 8)) and {row["n"] for row in forecast} == {
        15
    }
    assert all(row["naive"] == {} and row["best_naive"] is None for row in forecast)
    assert {row["source_key"] for row in forecast} == {ISSUE}


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2019-05"},
        {"version": "2"},
        {"horizon": 3},
        {"source": "forecast"},
        {"month": "2019-04", "version": "1", "horizon": 2},
        {"version": "1", "horizon": 6, "source": "outlook"},
    ],
)
def test_filters_select_the_stored_rows(client: TestClient, warehouse, scorecards, params: dict):
    response = client.get("/scorecard", params=params)
    assert response.status_code == 200, response.text
    where = {{"version": "model_version"}.get(name, name): value for name, value in params.items()}
    expected = _stored(scorecards, **where)
    assert _keys(response.json()["rows"]) == _table_keys(expected) and len(expected) > 0
    assert response.json()["scored_months"] == SCORED  # the filters narrow the rows, not the months


def test_a_filter_that_matches_nothing_is_an_empty_list(client: TestClient, warehouse):
    body = client.get("/scorecard", params={"version": "9"}).json()
    assert body["rows"] == [] and body["scored_months"] == SCORED


def test_a_month_not_scored_is_a_404_naming_the_scored_ones(client: TestClient, warehouse):
    response = client.get("/scorecard", params={"month": "2020-01"})
    assert response.status_code == 404
    body = response.json()
    assert body["field"] == "month" and body["reason"] == "2020-01 is not scored"
    assert body["detail"] == f"2020-01 is not scored: the scored months are {', '.join(SCORED)}"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("month=2019-13", "month"),
        ("month=201905", "month"),
        ("month=2019-5", "month"),
        ("version=abc", "version"),
        ("horizon=0", "horizon"),
        ("horizon=8", "horizon"),
        ("horizon=two", "horizon"),
        ("source=naive", "source"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(client: TestClient, warehouse, query: str, field: str):
    response = client.get(f"/scorecard?{query}")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["field"] == field and body["detail"].startswith(f"invalid `{field}`: ")


def _live(client: TestClient) -> dict[tuple[str, frozenset], float]:
    """A scrape once the scorecard was read: the first scrape starts the read, never waits for it."""
    deadline = time.monotonic() + 10
    while True:
        metrics = scrape(client)
        if any(name.startswith("crime_weather_live_") for name, _ in metrics) or time.monotonic() > deadline:
            return metrics
        time.sleep(0.05)


def test_the_gauges_are_the_champions_latest_judged_figures_per_horizon(
    client: TestClient, warehouse, scorecards
):
    metrics = _live(client)
    stored = _stored(scorecards, source="outlook", model_version="1")
    for horizon in range(1, 7):
        # Horizon month h of v1 (data through March) is April + h - 1; September is month 6, and the
        # one day of October the outlook reaches (n = 15, too few to judge) does not replace it.
        month = f"2019-{3 + horizon:02d}"
        row = stored[(stored["month"] == month) & (stored["horizon"] == horizon)].iloc[0]
        for gauge, column in GAUGES.items():
            assert metrics[(gauge, labels(horizon=str(horizon)))] == pytest.approx(row[column], rel=1e-12)
    october = stored[stored["month"] == "2019-10"].iloc[0]
    assert (october["horizon"], october["n"]) == (6, 15)
    assert {labels for name, labels in metrics if name == "crime_weather_live_deviance"} == {
        frozenset({("horizon", str(h))}) for h in range(1, 7)
    }
    # Version 2 claims 30 % more: had its rows leaked into the gauges, they would not match v1's.
    v2 = _stored(scorecards, source="outlook", model_version="2", month="2019-04").iloc[0]
    assert metrics[("crime_weather_live_pred_over_obs", labels(horizon="1"))] != pytest.approx(
        v2["pred_over_obs"]
    )


def test_without_a_scorecard_the_gauges_have_no_series(client: TestClient):
    metrics = scrape(client)
    time.sleep(0.2)  # the background read finds nothing
    assert not [name for name, _ in scrape(client) if name.startswith("crime_weather_live_")]
    assert not [name for name, _ in metrics if name.startswith("crime_weather_live_")]


def test_a_changed_or_new_month_is_read_after_the_ttl_and_a_failed_read_keeps_the_last(
    home: Path, scorecards: dict[str, pd.DataFrame]
):
    folder = open_store(Settings(home=home).warehouse)
    store(folder, {"2019-04": scorecards["2019-04"]})
    reader = ScorecardReader(folder, ttl=0.0)
    first = reader.current()
    assert first.scored_months == ["2019-04"]
    store(folder, {"2019-05": scorecards["2019-05"]})
    assert reader.current().scored_months == ["2019-04", "2019-05"]
    assert reader.current().months["2019-04"] is first.months["2019-04"]  # unchanged: not read again
    (Path(folder.uri) / SCORECARD_TABLE / "2019-05.parquet").write_bytes(b"not parquet")
    assert reader.current().scored_months == ["2019-04", "2019-05"]  # the damaged file: last read kept
    with pytest.raises(Exception, match="Parquet"):  # nothing read before: the error is told
        ScorecardReader(folder, ttl=3600.0).current()
    store(folder, {"2019-05": scorecards["2019-05"]})
    cached = ScorecardReader(folder, ttl=3600.0)
    assert cached.current().scored_months == ["2019-04", "2019-05"]
    store(folder, {"2019-06": scorecards["2019-06"]})
    assert cached.current().scored_months == ["2019-04", "2019-05"]  # within the TTL: not listed again


def test_a_damaged_scorecard_is_a_503_not_a_crash(client: TestClient, home: Path):
    folder = Path(Settings(home=home).warehouse) / SCORECARD_TABLE
    folder.mkdir(parents=True)
    (folder / "2019-04.parquet").write_bytes(b"not parquet")
    response = client.get("/scorecard")
    assert response.status_code == 503
    assert "cannot be read from the warehouse" in response.json()["detail"]


def test_the_api_reads_a_scorecard_in_s3(registry, home, moto_s3, scorecards):
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="data")
    store(S3Store("s3://data/wh", moto_s3), {month: scorecards[month] for month in SCORED[:2]})
    runtime = runtime_for(registry, home, warehouse_uri="s3://data/wh", s3_endpoint_url=moto_s3)
    with TestClient(create_app(runtime)) as client:
        body = client.get("/scorecard", params={"horizon": 1, "source": "outlook"}).json()
    assert body["scored_months"] == SCORED[:2]
    assert [(row["month"], row["model_version"]) for row in body["rows"]] == [
        ("2019-04", "1"),
        ("2019-04", "2"),
    ]


def test_the_openapi_schema_documents_the_filters_and_the_404(client: TestClient):
    document = client.get("/schema/openapi.json").json()
    operation = document["paths"]["/scorecard"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
    assert {"month", "version", "horizon", "source"} <= set(parameters)
    assert (parameters["horizon"]["minimum"], parameters["horizon"]["maximum"]) == (1, 7)
    assert {"200", "400", "404", "503"} <= set(operation["responses"])
    row = document["components"]["schemas"]["ScorecardRow"]
    assert {"n", "poisson_deviance", "mae", "pred_over_obs", "coverage_80", "coverage_95", "naive"} <= set(
        row["required"]
    )
