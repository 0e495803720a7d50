"""Forecast sources and the landing rule: a forecast file is recognised by its days, never ingested."""

import datetime as dt
import os
import re
import time

import pandas as pd
import pytest

from crime_weather.core.storage import BlobInfo
from crime_weather.sources.catalog import FORECAST, WEATHER, describe
from crime_weather.sources.forecast import (
    ForecastSourceError,
    city_day,
    fetch_forecast,
    is_forecast,
)
from crime_weather_tests import builders
from crime_weather_tests.open_meteo import serve_forecast
from harness.processes import free_port

PRIORITY = ["open-meteo"]


def _at(day: dt.date, hour: int = 12) -> float:
    """A Unix time on a day of the city's calendar (UTC-3, no daylight saving)."""
    return dt.datetime(
        day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=-3))
    ).timestamp()


def _days(first: str, count: int) -> pd.DatetimeIndex:
    return pd.date_range(first, periods=count, freq="D")


def test_days_past_the_landing_day_make_a_forecast():
    landed = _at(dt.date(2026, 11, 29))
    assert is_forecast(_days("2026-11-29", 7), landed)  # today and the six after
    assert is_forecast(_days("2026-11-22", 14), landed)  # with Open-Meteo's past_days
    assert not is_forecast(_days("2026-11-01", 29), landed)  # ends the day it landed: observed
    assert not is_forecast(_days("2019-01-01", 365), landed)
    # Years past its landing day: an archive whose timestamp was carried over, not a forecast.
    assert not is_forecast(_days("2019-01-01", 365), _at(dt.date(2018, 6, 1)))
    assert is_forecast(_days("2026-11-30", 16), landed) and not is_forecast(_days("2026-11-30", 17), landed)
    assert not is_forecast(_days("2026-11-29", 0), landed)


def test_the_landing_day_is_the_citys():
    assert city_day(_at(dt.date(2026, 11, 29), hour=23)) == dt.date(2026, 11, 29)  # 02:00 UTC next day
    assert city_day(_at(dt.date(2026, 11, 29), hour=0)) == dt.date(2026, 11, 29)


def test_a_forecast_file_is_its_own_kind_and_the_same_file_landed_later_is_observed_weather():
    payload = builders.forecast_json("2026-11-29")
    fresh = describe(BlobInfo("om.json", "v1", len(payload), _at(dt.date(2026, 11, 29))), payload)
    assert (fresh.kind, fresh.layout, fresh.months) == (FORECAST, "open_meteo_daily_json", ())
    assert fresh.detail == "forecast of 2026-11-29..2026-12-05, landed 2026-11-29"
    later = describe(BlobInfo("om.json", "v2", len(payload), _at(dt.date(2026, 12, 6))), payload)
    assert (later.kind, later.months) == (WEATHER, ("2026-11", "2026-12"))


def test_an_open_meteo_csv_forecast_is_recognised_too():
    frame = pd.DataFrame(builders.open_meteo_forecast("2026-11-29")["daily"])
    units = builders.OPEN_METEO_UNITS
    frame.columns = [f"{name} ({units[name]})" if name != "time" else name for name in frame.columns]
    csv = b"latitude,longitude,elevation\n-34.61,-58.44,25.0\n\n" + builders.to_csv(frame)
    file = describe(BlobInfo("f.csv", "v1", len(csv), _at(dt.date(2026, 11, 29))), csv)
    assert file.kind == FORECAST and file.layout == "open_meteo_daily_csv"


@pytest.fixture
def open_meteo():
    with serve_forecast(builders.forecast_json("2026-11-29")) as server:
        yield server


def test_the_api_is_asked_for_the_city_and_answers_canonical_weather(open_meteo):
    forecast = fetch_forecast("official", open_meteo.url, 7, 5, PRIORITY)
    (query,) = open_meteo.queries
    assert query["latitude"] == ["-34.61"] and query["longitude"] == ["-58.44"]
    assert query["forecast_days"] == ["7"] and query["timezone"] == ["America/Argentina/Buenos_Aires"]
    assert set(query["daily"][0].split(",")) == set(builders.OPEN_METEO_UNITS) - {"time"}
    assert forecast.source == open_meteo.url and forecast.days == "2026-11-29..2026-12-05"
    first = forecast.frame.iloc[0]
    assert (first["temp_mean"], first["temp_min"], first["temp_max"]) == (19.0, 14.0, 25.0)
    assert (first["humidity_pct"], first["wind_speed_kmh"], first["pressure_hpa"]) == (65, 14.0, 1013.0)
    assert forecast.frame["precipitation_mm"].tolist()[:3] == [0.0, 0.0, 12.5]


def test_an_error_answer_names_the_source_and_its_reason(open_meteo):
    open_meteo.status = 400
    with pytest.raises(
        ForecastSourceError,
        match=r"forecast source http://127.0.0.1:\d+/v1/forecast: answered HTTP 400: Invalid daily variable",
    ):
        fetch_forecast("official", open_meteo.url, 7, 5, PRIORITY)


def test_a_source_that_does_not_answer_is_named():
    closed = f"http://127.0.0.1:{free_port()}/v1/forecast"  # nothing listens there
    with pytest.raises(ForecastSourceError, match=re.escape(f"forecast source {closed}: did not answer")):
        fetch_forecast("official", closed, 7, 2, PRIORITY)


def test_forecast_for_another_place_is_refused(open_meteo):
    open_meteo.payload = builders.forecast_json("2026-11-29", latitude=-31.4)  # Córdoba
    with pytest.raises(ForecastSourceError, match="not Buenos Aires"):
        fetch_forecast("official", open_meteo.url, 7, 5, PRIORITY)


def test_a_file_or_the_newest_file_of_a_folder_is_an_offline_source(tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "old.json").write_bytes(builders.forecast_json("2026-11-20"))
    (folder / "new.json").write_bytes(builders.forecast_json("2026-11-29"))
    stamp = time.time()
    for offset, name in enumerate(["old.json", "new.json"]):
        os.utime(folder / name, (stamp + offset, stamp + offset))
    assert fetch_forecast(str(folder), "unused", 7, 5, PRIORITY).days == "2026-11-29..2026-12-05"
    single = fetch_forecast(str(folder / "old.json"), "unused", 7, 5, PRIORITY)
    assert single.days == "2026-11-20..2026-11-26" and single.source == str(folder / "old.json")
    with pytest.raises(ForecastSourceError, match="cannot be read"):
        fetch_forecast(str(tmp_path / "missing.json"), "unused", 7, 5, PRIORITY)
    with pytest.raises(ForecastSourceError, match="'none'"):
        fetch_forecast("none", "unused", 7, 5, PRIORITY)


def test_the_window_is_the_issue_date_and_the_days_after_it():
    from crime_weather.sources.forecast import read_forecast

    forecast = read_forecast(builders.forecast_json("2026-11-29"), "f.json", PRIORITY)
    window = forecast.window(dt.date(2026, 12, 1), 7)
    assert window["date"].dt.strftime("%Y-%m-%d").tolist() == [f"2026-12-0{d}" for d in range(1, 6)]
    assert forecast.window(dt.date(2026, 12, 10), 7).empty
