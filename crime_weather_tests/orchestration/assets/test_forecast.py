"""robbery_forecast on a real Dagster instance, a real MLflow registry (sqlite) and real HTTP on loopback."""

import datetime as dt
import time

import dagster as dg
import numpy as np
import pytest

from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.core.storage import parquet_to_frame
from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather.modeling.registry.tracking import client_for
from crime_weather.modeling.registry.versions import CHAMPION, alias_version, load_pipeline
from crime_weather.sources.forecast import city_day
from crime_weather.tables.validation import validate_forecast
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import checks, issue_forecast
from crime_weather_tests.open_meteo import serve_forecast

TODAY = city_day(time.time())


@pytest.fixture
def registry(champion_registry):
    return champion_registry


@pytest.fixture
def instance(home, registry, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", registry)
    # The test champion's data end in 2019: trusted 10 years ahead it gives counts today (the
    # default, 184 days, gives none: test_a_stale_champion_...).
    monkeypatch.setenv("CRIME_WEATHER_MAX_HORIZON_DAYS", "3650")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def _stored(home, issue=TODAY):
    path = home / "warehouse" / "robbery_forecast" / f"{issue}.parquet"
    return parquet_to_frame(path.read_bytes()) if path.exists() else None


def _failure(result: dg.ExecuteInProcessResult) -> str:
    return result.get_step_failure_events()[0].step_failure_data.user_failure_data.description


def test_a_forecast_file_landed_today_is_todays_forecast(instance, home, landing, registry):
    payload = builders.forecast_json(TODAY)
    (landing / "forecast.json").write_bytes(payload)
    result = issue_forecast(instance, TODAY.isoformat())
    assert result.success and checks(result) == {"robbery_forecast": True}
    table = _stored(home)
    assert validate_forecast(table, TODAY.isoformat(), 7) is None and len(table) == 7 * 15
    assert set(table["model_version"]) == {"1"}
    assert set(table["weather_source"]) == {"forecast.json"}  # the file's name, not where it lies
    # What the champion itself predicts from that weather.
    champion = alias_version(client_for(registry), "crime_weather", CHAMPION)
    pipeline = load_pipeline(registry, champion)
    np.testing.assert_allclose(table["expected_robberies"], pipeline.predict(model_input(table)))
    assert table.loc[table["date"] == str(TODAY + dt.timedelta(days=2)), "precipitation_mm"].eq(12.5).all()
    # The UI: the city total per day with its band as a plot, a table, the model and the weather.
    (event,) = instance.get_latest_materialization_events([dg.AssetKey("robbery_forecast")]).values()
    metadata = event.asset_materialization.metadata
    assert metadata["city_forecast"].value.startswith(
        "![city total per day with 80 % and 95 % bands](data:image/png;base64,"
    )
    assert metadata["model_version"].value == "1" and metadata["weather_source"].value == "forecast.json"
    assert (
        metadata["city_per_day"].value.count("\n") == 7 + 1
        and "| 80 % | 95 % |" in metadata["city_per_day"].value
    )
    assert event.asset_materialization.partition == TODAY.isoformat()
    assert (landing / "forecast.json").read_bytes() == payload  # the landing zone is only read


def test_a_stale_champion_issues_no_counts_only_the_weather_rate_ratio(
    instance, home, landing, registry, monkeypatch
):
    monkeypatch.setenv("CRIME_WEATHER_MAX_HORIZON_DAYS", "184")  # the default
    (landing / "forecast.json").write_bytes(builders.forecast_json(TODAY))
    result = issue_forecast(instance, TODAY.isoformat())
    assert result.success and checks(result) == {"robbery_forecast": True}
    table = _stored(home)
    assert validate_forecast(table, TODAY.isoformat(), 7) is None and len(table) == 7 * 15
    assert table["expected_robberies"].isna().all() and table["interval_95_high"].isna().all()
    assert table["reason"].str.contains("184 days").all() and (table["horizon_days"] > 184).all()
    pipeline = load_pipeline(registry, alias_version(client_for(registry), "crime_weather", CHAMPION))
    rows = model_input(table)
    normal = pipeline.predict(rows.assign(**{name: np.nan for name in WEATHER_FIELDS}))
    np.testing.assert_allclose(
        table["weather_rate_ratio"], pipeline.predict(rows) / normal, rtol=0, atol=1e-9
    )
    (event,) = instance.get_latest_materialization_events([dg.AssetKey("robbery_forecast")]).values()
    metadata = event.asset_materialization.metadata
    assert metadata["rows_without_counts"].value == 7 * 15 and "184 days" in metadata["reason"].value
    assert "city_forecast" not in metadata  # no count, no city total


def test_without_a_file_of_the_day_the_configured_api_is_asked(instance, home, monkeypatch):
    with serve_forecast(builders.forecast_json(TODAY)) as server:
        monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", "official")
        monkeypatch.setenv("CRIME_WEATHER_OPEN_METEO_FORECAST_URL", server.url)
        result = issue_forecast(instance, TODAY.isoformat())
    assert result.success and len(server.queries) == 1
    assert set(_stored(home)["weather_source"]) == {"open-meteo"}  # never the server's address


def test_a_source_that_does_not_answer_fails_the_run_naming_it_and_stores_nothing(
    instance, home, monkeypatch
):
    with serve_forecast(b"") as server:
        server.status = 503
        monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", "official")
        monkeypatch.setenv("CRIME_WEATHER_OPEN_METEO_FORECAST_URL", server.url)
        result = issue_forecast(instance, TODAY.isoformat())
    assert not result.success
    message = _failure(result)
    assert f"No weather forecast for {TODAY}: forecast source {server.url}: answered HTTP 503" in message
    assert "No forecast file landed" in message
    assert _stored(home) is None
    assert instance.get_latest_materialization_event(dg.AssetKey("robbery_forecast")) is None


def test_a_forecast_of_past_days_cannot_be_issued_again(instance, home, tmp_path, monkeypatch):
    (tmp_path / "f.json").write_bytes(builders.forecast_json(TODAY))
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", str(tmp_path / "f.json"))
    past = TODAY - dt.timedelta(days=10)
    result = issue_forecast(instance, past.isoformat())
    assert not result.success and "none of the issue's days" in _failure(result)
    assert _stored(home, past) is None


def test_no_champion_yet_is_said_plainly(instance, landing, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_REGISTERED_MODEL", "never_trained")  # same registry, no such model
    (landing / "forecast.json").write_bytes(builders.forecast_json(TODAY))
    result = issue_forecast(instance, TODAY.isoformat())
    assert not result.success
    assert "No 'champion' alias on registered model never_trained yet" in _failure(result)
