import pandas as pd
import pytest
from pandera.errors import SchemaError, SchemaErrors

from crime_weather.core.months import month_days
from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.sources.crime.parsing import parse_crime
from crime_weather.sources.files import open_raw
from crime_weather.tables.features import build_daily_features, covered_days
from crime_weather.tables.schemas import daily_features_schema, raw_crime_schema, raw_weather_schema
from crime_weather_tests import builders


@pytest.fixture
def events() -> pd.DataFrame:
    return parse_crime(open_raw(builders.to_csv(builders.release_current()), "f.csv")).events


def test_raw_crime_rejects_a_date_outside_the_partition(events):
    with pytest.raises(SchemaErrors, match="every date falls in 2019-04"):
        raw_crime_schema("2019-04").validate(events, lazy=True)


def test_raw_crime_rejects_out_of_range_comunas_and_upper_case_types(events):
    events = events.copy()
    events["comuna"] = pd.array([1, 16, 3, 3], dtype="Int8")
    events["crime_type"] = pd.array(["Robo", "robo", "robo", "robo"], dtype=events["crime_type"].dtype)
    with pytest.raises(SchemaErrors) as error:
        raw_crime_schema().validate(events, lazy=True)
    failing = set(error.value.failure_cases["column"])
    assert {"comuna", "crime_type"} <= failing


def _weather(month: str) -> pd.DataFrame:
    frame = pd.DataFrame({"date": month_days(month)})
    for name in WEATHER_FIELDS:
        frame[name] = 10.0
    frame["pressure_hpa"] = 1010.0
    return frame


def test_raw_weather_needs_every_day_once_and_physical_values():
    weather = _weather("2019-02")
    raw_weather_schema("2019-02").validate(weather)
    with pytest.raises(SchemaError, match="one row per day"):
        raw_weather_schema("2019-02").validate(weather.iloc[:-1])
    weather.loc[0, "humidity_pct"] = 130.0
    with pytest.raises(SchemaError, match="humidity_pct"):
        raw_weather_schema("2019-02").validate(weather)


def test_daily_features_needs_a_complete_grid(events):
    features = build_daily_features(events, _weather("2019-03"), covered_days(events, "2019-03"))
    daily_features_schema("2019-03").validate(features)
    with pytest.raises(SchemaErrors, match="complete grid"):
        daily_features_schema("2019-03").validate(features.iloc[1:], lazy=True)
    negative = features.copy()
    negative.loc[0, "robberies"] = -1
    with pytest.raises(SchemaError, match="robberies"):
        daily_features_schema("2019-03").validate(negative)
