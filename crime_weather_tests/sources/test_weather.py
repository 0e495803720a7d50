import json

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.months import month_days
from crime_weather.core.settings import DEFAULT_WEATHER_PRIORITY
from crime_weather.sources.files import LandingFileError, open_raw
from crime_weather.sources.weather.combine import combine_weather, source_rank
from crime_weather.sources.weather.parsing import parse_weather
from crime_weather.sources.weather.values import SourceSeries, relative_humidity
from crime_weather.tables.schemas import raw_weather_schema
from crime_weather_tests import builders

MARCH = month_days("2019-03")


def test_smn_daily_maps_every_variable_and_an_empty_precip_is_a_dry_day():
    parsed = parse_weather(open_raw(builders.to_csv(builders.smn_daily(MARCH)), "smn.csv"))
    (series,) = parsed.series
    assert series.source == "smn-daily" and parsed.layout == "smn_daily"
    frame = series.frame
    assert len(frame) == 31 and frame.index[0] == pd.Timestamp("2019-03-01")
    assert frame["precipitation_mm"].tolist()[:3] == [4.5, 0.0, 4.5]
    assert frame["pressure_hpa"].iloc[0] == 1012.5 and frame["humidity_pct"].iloc[0] == 70
    assert parsed.months == ["2019-03"]


def test_smn_hourly_means_derive_humidity_from_the_dew_point():
    frame = pd.DataFrame({"Y": [2019], "M": ["03"], "D": ["01"], "pp24": [1.2], "V_mag_vectorial": [3.0],
                          "T": [20.0], "V_mag": [9.5], "Td": [10.0]})  # fmt: skip
    (series,) = parse_weather(open_raw(builders.to_csv(frame), "ortuzar.csv")).series
    assert series.source == "smn-hourly-means"
    assert series.frame["humidity_pct"].iloc[0] == pytest.approx(52.5, abs=0.5)  # psychrometric tables: 52 %
    assert series.frame["wind_speed_kmh"].iloc[0] == 9.5


def test_ghcnd_moves_24h_elements_back_one_day_and_keeps_stations_apart():
    frame = pd.DataFrame(
        {
            "STATION": ["AR000875850", "AR000875850", "ARM00087576"],
            "NAME": ["BUENOS AIRES OBSERV, AR", "BUENOS AIRES OBSERV, AR", "EZEIZA, AR"],
            "DATE": ["2019-03-01", "2019-03-02", "2019-03-01"],
            "PRCP": [None, "12.0", "3.0"],
            "TAVG": ["21.0", "22.0", "20.0"],
            "TMAX": [None, "27.5", None],
            "TMIN": ["15.0", "16.0", None],
        }
    )
    series = {s.source: s.frame for s in parse_weather(open_raw(builders.to_csv(frame), "noaa.csv")).series}
    assert set(series) == {"ghcnd:AR000875850", "ghcnd:ARM00087576"}
    observatorio = series["ghcnd:AR000875850"]
    assert observatorio.loc["2019-03-01", "temp_max"] == 27.5  # NOAA's 03-02 is SMN's 03-01
    assert observatorio.loc["2019-03-01", "precipitation_mm"] == 12.0
    assert observatorio.loc["2019-03-02", "temp_mean"] == 22.0  # daily means keep their date
    assert np.isnan(observatorio.loc["2019-03-02", "precipitation_mm"])  # absent PRCP is unknown, not 0


def test_cammesa_keeps_only_gran_buenos_aires():
    (series,) = parse_weather(open_raw(builders.to_csv(builders.cammesa(MARCH)), "c.csv")).series
    assert series.source == "cammesa:GBA" and series.frame["temp_mean"].max() < 30


def _open_meteo(latitude=-34.6, wind_unit="km/h") -> dict:
    return {
        "latitude": latitude,
        "longitude": -58.4,
        "daily_units": {"time": "iso8601", "temperature_2m_mean": "°C", "wind_speed_10m_mean": wind_unit},
        "daily": {
            "time": ["2019-03-01", "2019-03-02"],
            "temperature_2m_mean": [24.0, None],
            "wind_speed_10m_mean": [10.0, 5.0],
        },
    }


def test_open_meteo_json_with_unit_conversion():
    parsed = parse_weather(open_raw(json.dumps(_open_meteo(wind_unit="m/s")).encode(), "om.json"))
    (series,) = parsed.series
    assert parsed.layout == "open_meteo_daily_json" and series.source == "open-meteo"
    assert series.frame["wind_speed_kmh"].tolist() == pytest.approx([36.0, 18.0])
    assert series.frame["temp_mean"].iloc[0] == 24.0


def test_open_meteo_csv_export():
    data = (
        "latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
        "-34.6,-58.4,25.0,-10800,America/Argentina/Buenos_Aires,GMT-3\n\n"
        "time,temperature_2m_mean (°F),precipitation_sum (mm)\n2019-03-01,68.0,0.4\n"
    ).encode()
    parsed = parse_weather(open_raw(data, "om.csv"))
    assert parsed.layout == "open_meteo_daily_csv"
    assert parsed.series[0].frame["temp_mean"].iloc[0] == pytest.approx(20.0)


def test_weather_far_from_the_city_is_refused():
    with pytest.raises(LandingFileError, match=r"om\.json: is weather for \(-31\.4"):
        parse_weather(open_raw(json.dumps(_open_meteo(latitude=-31.4)).encode(), "om.json"))


def test_values_outside_physical_bounds_become_null_and_are_counted():
    frame = builders.smn_daily(MARCH)
    frame.loc[0, "HUM_REL"] = 180
    frame["TMEDIA"] = frame["TMEDIA"].astype(object)
    frame.loc[1, "TMEDIA"] = "S/D"
    parsed = parse_weather(open_raw(builders.to_csv(frame), "smn.csv"))
    assert parsed.out_of_range == {"humidity_pct": 1}
    assert parsed.series[0].frame["humidity_pct"].isna().sum() == 1
    assert parsed.series[0].frame["temp_mean"].isna().sum() == 1


def test_relative_humidity_is_100_at_the_dew_point():
    assert relative_humidity(pd.Series([15.0]), pd.Series([15.0])).iloc[0] == pytest.approx(100)


def _series(source: str, **columns: list[float]) -> SourceSeries:
    days = MARCH[: len(next(iter(columns.values())))]
    return SourceSeries(source, pd.DataFrame(columns, index=pd.DatetimeIndex(days, name="date")))


def test_combine_takes_each_value_from_the_best_source_that_has_it():
    smn = _series("smn-daily", temp_mean=[20.0, np.nan], precipitation_mm=[1.0, 2.0])
    cammesa = _series("cammesa:GBA", temp_mean=[30.0, 31.0, 32.0])
    combined = combine_weather(MARCH, [cammesa, smn], DEFAULT_WEATHER_PRIORITY)
    frame = combined.frame
    raw_weather_schema("2019-03").validate(frame)
    assert frame["temp_mean"].tolist()[:3] == [20.0, 31.0, 32.0]
    assert combined.filled_by()["temp_mean"] == {"smn-daily": 1, "cammesa:GBA": 2}
    assert combined.filled_by()["precipitation_mm"] == {"smn-daily": 2}
    assert frame["humidity_pct"].isna().all() and len(frame) == 31


def test_among_equal_sources_the_first_given_wins_and_priority_is_configurable():
    newer, older = _series("open-meteo", temp_mean=[1.0]), _series("open-meteo", temp_mean=[2.0])
    assert combine_weather(MARCH, [newer, older], DEFAULT_WEATHER_PRIORITY).frame["temp_mean"][0] == 1.0
    cammesa, smn = _series("cammesa:GBA", temp_mean=[5.0]), _series("smn-daily", temp_mean=[6.0])
    assert combine_weather(MARCH, [smn, cammesa], ["cammesa", "smn-daily"]).frame["temp_mean"][0] == 5.0


def test_source_rank_matches_sub_sources():
    assert source_rank("ghcnd:AR000875850", DEFAULT_WEATHER_PRIORITY) < source_rank(
        "ghcnd:XYZ", DEFAULT_WEATHER_PRIORITY
    )
    assert source_rank("unknown", ["a"]) == 1
