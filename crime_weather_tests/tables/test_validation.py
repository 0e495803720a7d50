"""validate_by_month: the schemas' partition checks run in the one-pass validation the assets use, and
each failure is traced to the month at fault."""

import pandas as pd

from crime_weather.core.months import month_days
from crime_weather.core.names import COMUNAS, WEATHER_FIELDS
from crime_weather.tables.features import build_daily_features
from crime_weather.tables.schemas import daily_features_schema, raw_weather_schema
from crime_weather.tables.validation import validate_by_month

MONTHS = ["2019-02", "2019-03"]


def _weather(months: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"date": month_days(months[0]).append([month_days(m) for m in months[1:]])})
    for name in WEATHER_FIELDS:
        frame[name] = 10.0
    frame["pressure_hpa"] = 1010.0
    return frame


def test_valid_months_have_no_problem():
    assert validate_by_month(raw_weather_schema(MONTHS), _weather(MONTHS), MONTHS) == {}


def test_a_missing_day_fails_its_month_only():
    weather = _weather(MONTHS)
    weather = weather[weather["date"] != "2019-03-10"].reset_index(drop=True)
    problems = validate_by_month(raw_weather_schema(MONTHS), weather, MONTHS)
    assert set(problems) == {"2019-03"}
    assert "one row per day of the month (30 rows)" in problems["2019-03"]


def test_a_row_outside_the_runs_months_fails_every_month():
    weather = _weather(MONTHS)
    weather.loc[0, "date"] = pd.Timestamp("2019-05-01")
    problems = validate_by_month(raw_weather_schema(MONTHS), weather, MONTHS)
    assert set(problems) == set(MONTHS)
    assert all("every date falls in its partition" in problem for problem in problems.values())


def test_an_out_of_bounds_value_fails_the_month_of_its_row():
    weather = _weather(MONTHS)
    weather.loc[3, "humidity_pct"] = 130.0
    problems = validate_by_month(raw_weather_schema(MONTHS), weather, MONTHS)
    assert list(problems) == ["2019-02"]
    assert "humidity_pct" in problems["2019-02"]


def test_an_incomplete_grid_fails_the_month_of_the_day():
    days = pd.DatetimeIndex(month_days("2019-02").append(month_days("2019-03")), name="date")
    events = pd.DataFrame({"date": [days[0]], "crime_type": ["robo"], "comuna": [1], "count": [1]}).astype(
        {"comuna": "Int8"}
    )
    features = build_daily_features(events, _weather(MONTHS), days)
    assert len(features) == len(days) * len(COMUNAS)
    gap = features.drop(index=features.index[(features["date"] == "2019-02-14") & (features["comuna"] == 7)])
    problems = validate_by_month(daily_features_schema(MONTHS), gap.reset_index(drop=True), MONTHS)
    assert set(problems) == {"2019-02"}
    assert "complete grid" in problems["2019-02"]
