"""The vocabulary's builders against independent references: pandas' own date accessors, the
`holidays` library asked directly, pandas' own binning."""

import holidays
import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import CALENDAR_COLUMNS
from crime_weather.tables import terms
from crime_weather.tables.features import calendar_columns

# Every day of 2015..2026: leap years, year ends, and every movable holiday of those years.
DAYS = pd.Series(pd.date_range("2015-01-01", "2026-12-31"))


def test_calendar_terms_match_pandas_and_the_holidays_library_on_every_day_of_twelve_years():
    built = terms.calendar_terms(terms.as_days(DAYS))
    assert list(built) == list(CALENDAR_COLUMNS)
    np.testing.assert_array_equal(built[terms.WEEKDAY], DAYS.dt.weekday)
    np.testing.assert_array_equal(built[terms.MONTH], DAYS.dt.month)
    np.testing.assert_array_equal(built[terms.DAY_OF_YEAR], DAYS.dt.dayofyear)
    official = holidays.country_holidays("AR", years=range(2015, 2027))
    np.testing.assert_array_equal(built[terms.IS_HOLIDAY], [day.date() in official for day in DAYS])
    assert 12 * 12 < built[terms.IS_HOLIDAY].sum() < 12 * 25  # a dozen-odd holidays a year, not none


def test_iso_strings_and_datetimes_give_the_same_terms():
    from_strings = terms.calendar_terms(terms.as_days(DAYS.dt.strftime("%Y-%m-%d")))
    from_datetimes = terms.calendar_terms(terms.as_days(DAYS))
    for name in CALENDAR_COLUMNS:
        np.testing.assert_array_equal(from_strings[name], from_datetimes[name])


def test_daily_features_calendar_columns_are_the_vocabularys_with_their_table_types():
    columns = calendar_columns(DAYS)
    assert list(columns) == list(CALENDAR_COLUMNS)
    assert columns.dtypes.astype(str).tolist() == ["int64", "int64", "int64", "bool"]
    for name, values in terms.calendar_terms(terms.as_days(DAYS)).items():
        np.testing.assert_array_equal(columns[name], values)


@pytest.mark.parametrize("day, expected", [("2020-12-08", True), ("2020-12-09", False), ("2016-07-09", True)])
def test_is_holiday(day, expected):
    assert bool(terms.is_holiday(terms.as_days([day]))[0]) is expected


def test_empty_dates_have_empty_terms():
    assert all(len(values) == 0 for values in terms.calendar_terms(terms.as_days([])).values())


def test_a_rain_day_has_at_least_one_mm_and_negative_rain_counts_as_none():
    rain = np.array([-2.0, 0.0, 0.99, 1.0, 1.01, 30.0])
    built = terms.rain_terms(rain)
    np.testing.assert_array_equal(built[terms.RAIN_DAY], [0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(built[terms.LOG1P_RAIN], np.log1p([0.0, 0.0, 0.99, 1.0, 1.01, 30.0]))


def test_temperature_bins_are_closed_on_the_left_like_pandas_cut():
    temp = np.array([-3.0, 9.99, 10.0, 14.9, 15.0, 20.0, 24.99, 25.0, 28.0, 35.0])
    edges = (-np.inf, *terms.TEMPERATURE_EDGES, np.inf)
    expected = pd.cut(temp, edges, right=False, labels=list(terms.TEMPERATURE_BIN_LABELS)).astype(str)
    np.testing.assert_array_equal(
        np.array(terms.TEMPERATURE_BIN_LABELS)[terms.temperature_bin(temp)], expected
    )
    assert terms.TEMPERATURE_BIN_LABELS[2] == "15-20 °C"


def test_the_anomaly_is_the_distance_from_the_normal():
    np.testing.assert_array_equal(terms.anomaly(np.array([20.0, 11.5]), np.array([18.0, 12.0])), [2.0, -0.5])


def test_a_day_rained_if_it_had_any_rain():
    np.testing.assert_array_equal(terms.rained(np.array([0.0, 0.1, np.nan, 3.0])), [False, True, False, True])
