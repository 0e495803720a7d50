import pandas as pd

from crime_weather.core.months import month_days
from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.sources.crime.parsing import parse_crime
from crime_weather.sources.files import open_raw
from crime_weather.tables.features import build_daily_features, covered_days
from crime_weather.tables.schemas import daily_features_schema
from crime_weather_tests import builders


def _events(**overrides) -> pd.DataFrame:
    frame = builders.release_current()
    for column, values in overrides.items():
        frame[column] = values
    return parse_crime(open_raw(builders.to_csv(frame), "f.csv")).events


def _weather(month: str) -> pd.DataFrame:
    frame = pd.DataFrame({"date": month_days(month)})
    for name in WEATHER_FIELDS:
        frame[name] = float("nan")
    frame["temp_mean"] = 20.0
    return frame


def test_the_grid_is_complete_and_counts_only_robberies():
    events = _events(fecha=["2019-03-01", "2019-03-01", "2019-03-01", "2019-03-31"], latitud="SD")
    features = build_daily_features(events, _weather("2019-03"), covered_days(events, "2019-03"))
    daily_features_schema("2019-03").validate(features)
    assert len(features) == 31 * 15
    by_key = features.set_index(["date", "comuna"])["robberies"]
    assert by_key[(pd.Timestamp("2019-03-01"), 3)] == 2  # two robberies, coordinates unknown
    assert by_key[(pd.Timestamp("2019-03-01"), 14)] == 0  # a hurto is not a robbery
    assert by_key[(pd.Timestamp("2019-03-31"), 15)] == 1
    assert features["robberies"].sum() == 3 and (features["temp_mean"] == 20.0).all()


def test_count_and_robberies_without_comuna():
    events = _events(cantidad=[3, 1, 1, 1], comuna=[3.0, None, 14.0, 15.0])
    features = build_daily_features(events, _weather("2019-03"), covered_days(events, "2019-03"))
    assert (
        features["robberies"].sum() == 4
    )  # 3 + the comuna-15 robbery; the one without comuna cannot be placed


def test_a_release_that_stops_mid_month_does_not_invent_zero_days():
    events = _events(fecha=["2019-03-01", "2019-03-05", "2019-03-10", "2019-03-15"])
    days = covered_days(events, "2019-03")
    assert days[0] == pd.Timestamp("2019-03-01") and days[-1] == pd.Timestamp("2019-03-15")
    assert len(build_daily_features(events, _weather("2019-03"), covered_days(events, "2019-03"))) == 15 * 15


def test_calendar_columns_and_argentine_holidays():
    events = _events(fecha=["2019-03-01"] * 3 + ["2019-03-31"])
    features = build_daily_features(events, _weather("2019-03"), covered_days(events, "2019-03"))
    first = features.iloc[0]
    assert (first["weekday"], first["month"], first["day_of_year"]) == (4, 3, 60)  # a Friday
    holidays_ = features.loc[features["is_holiday"], "date"].dt.strftime("%m-%d").unique().tolist()
    assert holidays_ == ["03-04", "03-05", "03-24"]  # Carnival Monday and Tuesday, Memory Day
