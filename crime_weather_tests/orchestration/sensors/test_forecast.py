"""When forecasts are issued: a forecast file landing, a promotion, the daily schedule. Real Dagster
instance, real MLflow registries (sqlite), the runs executed."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.core.storage import parquet_to_frame
from crime_weather.definitions import build_definitions, build_resources
from crime_weather.sources.forecast import city_day
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import evaluate_landing_sensor, execute
from crime_weather_tests.open_meteo import serve_forecast
from harness.models import register_model

TODAY = city_day(time.time())


@pytest.fixture
def instance(home):
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def _resources(*names: str) -> dict[str, object]:
    resources = build_resources()
    return {name: resources[name] for name in names}


def _promotion_tick(instance, cursor=None):
    defs = build_definitions()
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        resources=_resources("mlflow_tracking", "landing", "forecast_source"),
    )
    return defs.resolve_sensor_def("forecast_on_promotion")(context)


def _schedule_tick(instance, at: dt.datetime):
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources=_resources("landing", "forecast_source")
    )
    return build_definitions().resolve_schedule_def("daily_forecast")(context)


def test_a_forecast_file_issues_todays_forecast_and_never_feeds_observed_weather(
    instance, home, landing, champion_registry, monkeypatch
):
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", champion_registry)
    # Crime data of this very month: the one month a forecast could be mistaken into.
    robbery = (TODAY.isoformat(), 10, "robo", "Comuna 3", -34.61, -58.41)
    (landing / "delitos.csv").write_bytes(builders.to_csv(builders.release_current([robbery])))
    (landing / "pronostico.json").write_bytes(builders.forecast_json(TODAY))
    result = evaluate_landing_sensor(instance)
    forecast, ingest = sorted(result.run_requests, key=lambda request: request.job_name)
    assert ingest.job_name == "ingest" and ingest.run_key.startswith("delitos.csv@")  # no weather run
    assert (forecast.job_name, forecast.partition_key) == ("forecast", TODAY.isoformat())
    assert forecast.run_key.startswith("forecast:pronostico.json@")
    assert {event.asset_key.to_user_string() for event in result.asset_events} == {
        "landing_crime_files",
        "landing_forecast_files",
    }
    assert execute(instance, ingest).success
    month = TODAY.strftime("%Y-%m")
    weather = parquet_to_frame((home / "warehouse" / "raw_weather" / f"{month}.parquet").read_bytes())
    assert weather[list(WEATHER_FIELDS)].isna().all().all()  # the forecast is not observed weather
    assert execute(instance, forecast).success
    assert (home / "warehouse" / "robbery_forecast" / f"{TODAY}.parquet").exists()
    assert isinstance(evaluate_landing_sensor(instance, result.cursor), dg.SkipReason)  # issued once


def test_every_promotion_issues_the_forecast_again_with_the_new_champion(
    instance, home, tmp_path, champion_registry, monkeypatch
):
    # The shared registry, under a model name of this test's own: its versions start at 1 here.
    registry, name = champion_registry, "promoted_twice"
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", registry)
    monkeypatch.setenv("CRIME_WEATHER_REGISTERED_MODEL", name)
    (tmp_path / "f.json").write_bytes(builders.forecast_json(TODAY))
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", str(tmp_path / "f.json"))

    skip = _promotion_tick(instance)
    assert isinstance(skip, dg.SkipReason) and "No 'champion' alias" in skip.skip_message
    register_model(registry, name, seed=1)
    first = _promotion_tick(instance)
    (request,) = first.run_requests
    assert (request.partition_key, request.run_key, first.cursor) == (
        TODAY.isoformat(),
        f"{TODAY}:champion-v1",
        "1",
    )
    unchanged = _promotion_tick(instance, first.cursor)
    assert isinstance(unchanged, dg.SkipReason) and "v1 unchanged" in unchanged.skip_message

    register_model(registry, name, seed=2)  # a promotion: the alias moves to version 2
    second = _promotion_tick(instance, first.cursor)
    (again,) = second.run_requests
    assert again.run_key == f"{TODAY}:champion-v2" and second.cursor == "2"
    assert execute(instance, again).success
    table = parquet_to_frame((home / "warehouse" / "robbery_forecast" / f"{TODAY}.parquet").read_bytes())
    assert set(table["model_version"]) == {"2"}


def test_with_nothing_to_forecast_from_a_promotion_only_moves_the_cursor(
    instance, champion_registry, monkeypatch
):
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", champion_registry)  # source: none (conftest)
    result = _promotion_tick(instance)
    assert result.run_requests == [] and result.cursor == "1"
    assert (
        "CRIME_WEATHER_FORECAST_SOURCE is none and no forecast file landed" in result.skip_reason.skip_message
    )


def test_a_promotion_waits_for_the_forecast_api_to_answer(instance, champion_registry, monkeypatch):
    """Offline, the tick says why and keeps its cursor; the API back, the forecast is issued with
    that champion (never a run that could only fail)."""
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", champion_registry)
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", "official")
    with serve_forecast(builders.forecast_json(TODAY)) as api:
        url = api.url
    monkeypatch.setenv("CRIME_WEATHER_OPEN_METEO_FORECAST_URL", url)  # its server is gone: refused
    offline = _promotion_tick(instance)
    assert isinstance(offline, dg.SkipReason)
    assert f"the forecast API {url} does not answer (ConnectError" in offline.skip_message
    with serve_forecast(builders.forecast_json(TODAY)) as api:
        monkeypatch.setenv("CRIME_WEATHER_OPEN_METEO_FORECAST_URL", api.url)
        online = _promotion_tick(instance)
    (request,) = online.run_requests
    assert request.run_key == f"{TODAY}:champion-v1" and online.cursor == "1"


def test_the_daily_schedule_issues_the_forecast_of_its_day_in_the_citys_calendar(
    instance, landing, monkeypatch
):
    morning = dt.datetime(2026, 11, 29, 7, 0, tzinfo=ZoneInfo("America/Argentina/Buenos_Aires"))
    assert isinstance(_schedule_tick(instance, morning), dg.SkipReason)  # source none, no file
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_SOURCE", "official")
    with serve_forecast(b"{}") as api:
        monkeypatch.setenv("CRIME_WEATHER_OPEN_METEO_FORECAST_URL", api.url)
        request = _schedule_tick(instance, morning)
        assert (request.partition_key, request.run_key) == ("2026-11-29", "2026-11-29:daily")
        late = dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)  # still the 29th in Buenos Aires
        assert _schedule_tick(instance, late).partition_key == "2026-11-29"
    gone = _schedule_tick(instance, morning)
    assert isinstance(gone, dg.SkipReason) and "does not answer" in gone.skip_message
    schedule = build_definitions().resolve_schedule_def("daily_forecast")
    assert schedule.execution_timezone == "America/Argentina/Buenos_Aires"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
