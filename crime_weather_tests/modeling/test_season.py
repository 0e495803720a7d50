"""The seasonal index and the seasonal step a frozen level misses, on planted histories (exact counts)."""

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import COMUNAS
from crime_weather.modeling.features.season import seasonal_index, seasonal_steps
from crime_weather.modeling.features.transformer import LevelFeatures

FIRST = np.datetime64("2016-01-01")
# log level of each calendar month, January first: high in November, low in July (Buenos Aires-like)
PATTERN = np.array([-0.05, 0.0, 0.06, -0.01, -0.01, -0.07, -0.08, 0.02, -0.02, 0.03, 0.12, 0.01])


def _history(years: int, trend_per_year: float = -0.15) -> np.ndarray:
    """Days x comunas from FIRST: comuna c has c robberies a day, times the month's pattern and a trend."""
    days = pd.date_range(str(FIRST), periods=int(365.25 * years), freq="D")
    log_city = PATTERN[days.month - 1] + trend_per_year * np.arange(len(days)) / 365.25
    return np.exp(log_city)[:, None] * np.arange(1, len(COMUNAS) + 1)[None, :]


def test_the_index_recovers_the_planted_months_under_a_falling_level():
    index = seasonal_index(_history(4), FIRST)
    np.testing.assert_allclose(index, PATTERN - PATTERN.mean(), atol=0.006)
    assert index.sum() == pytest.approx(0, abs=1e-12)


def test_missing_days_and_a_missing_month_of_one_year_are_filled_by_the_other_years():
    history = _history(4)
    history[40:50, 3] = np.nan  # ten days of one comuna: those days are not the city's total
    history[600:640] = np.nan  # most of August 2017: the month leaves the index
    index = seasonal_index(history, FIRST)
    np.testing.assert_allclose(index, PATTERN - PATTERN.mean(), atol=0.008)


def test_a_history_that_cannot_show_every_calendar_month_gives_no_index():
    assert not seasonal_index(_history(1.5), FIRST).any()  # ~1.5 years: a month without a value
    assert not seasonal_index(_history(0.5), FIRST).any()  # shorter than the moving average


def test_the_step_is_the_index_from_the_month_the_level_reflects_to_the_month_before_the_target():
    index = PATTERN - PATTERN.mean()
    last_day = np.datetime64("2018-05-31")  # the level is May's; the origin is June
    days = np.array(["2018-06-10", "2018-07-01", "2018-11-15", "2019-01-31"], dtype="datetime64[D]")
    steps = seasonal_steps(index, days, last_day)
    may, june, october, december = index[4], index[5], index[9], index[11]
    np.testing.assert_allclose(steps, [0.0, june - may, october - may, december - may])


def test_the_pipeline_carries_its_share_of_the_step_after_the_history_only():
    history = _history(3)
    days = np.repeat(np.arange(FIRST, FIRST + len(history)), len(COMUNAS))
    frame = pd.DataFrame({"date": days, "comuna": np.tile(np.arange(1, len(COMUNAS) + 1), len(history))})
    y = history.reshape(-1)
    features = LevelFeatures(level="ewm30_cmom28", weather=False, horizon_seasonal=(0.5,) * 6).fit(frame, y)
    inside = np.array(["2017-03-10", "2018-11-20"], dtype="datetime64[D]")
    after = features.last_day_ + np.array([1, 40, 100, 160])  # the first: the origin, month h = 1
    after = after.astype("datetime64[D]")
    np.testing.assert_allclose(features.level_factors(inside), 1.0)
    expected = np.exp(0.5 * seasonal_steps(features.season_, after, features.last_day_))
    np.testing.assert_allclose(features.level_factors(after), expected)
    assert expected[0] == 1.0 and np.abs(np.log(expected[1:])).max() > 0.02  # a real step, not a no-op
    plain = LevelFeatures(level="ewm30_cmom28", weather=False).fit(frame, y)
    np.testing.assert_allclose(plain.level_factors(after), 1.0)  # nothing carried without a share
