"""Training recovers effects planted in generated counts (never real data; fixed seed):

- a level drop of 20 % from 2018-06 for every comuna,
- rain: a rate ratio of 0.90 on days with >= 1 mm,
- temperature: +1 % per °C.

The search, the backtest and its weather ablation run as in a retrain, on a small budget.
"""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from crime_weather.core.names import COMUNAS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.selection.evaluation import run_backtest, weather_verdict
from crime_weather.modeling.selection.folds import MonthlyData, plan_folds
from crime_weather.modeling.selection.search import search

DROP_FROM = "2018-06"
RAIN_RATE_RATIO = 0.90
PER_DEGREE = 1.01


def planted_counts(first: str = "2017-01-01", last: str = "2018-12-31", seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range(first, last)
    temp = 17 + 7 * np.cos(2 * np.pi * (days.dayofyear - 20) / 365.25) + rng.normal(0, 3, len(days))
    rain = np.where(rng.random(len(days)) < 0.3, rng.exponential(8, len(days)) + 1, 0.0)
    weather = pd.DataFrame({"date": days, "temp_mean": temp, "precipitation_mm": rain})
    grid = pd.MultiIndex.from_product([days, COMUNAS], names=["date", "comuna"]).to_frame(index=False)
    frame = grid.merge(weather, on="date")
    rate = (
        (8 + frame["comuna"])
        * np.where(frame["date"].dt.weekday >= 5, 1.15, 1.0)
        * np.where(frame["date"] >= DROP_FROM, 0.8, 1.0)
        * np.where(frame["precipitation_mm"] >= 1, RAIN_RATE_RATIO, 1.0)
        * PER_DEGREE ** (frame["temp_mean"] - 17)
    )
    frame[TARGET] = rng.poisson(rate)
    return frame.reindex(columns=["date", "comuna", TARGET, *WEATHER_FIELDS])


@pytest.fixture(scope="module")
def backtest():
    data = MonthlyData(planted_counts())
    plan = plan_folds(data.months, backtest_folds=8, search_folds=2)
    with threadpool_limits(limits=1):
        chosen = search(data, plan.search, trials=4, timeout=120, seed=7).best
        return run_backtest(chosen, data, plan.backtest, seed=7)


def test_the_level_is_recovered_within_5_percent_in_the_folds_after_the_drop(backtest):
    ratio = backtest.folds.set_index("month")["pred_over_obs"]
    assert ratio["2018-06"] > 1.15  # the month of the drop: the level known at its start is the old one
    after = ratio[ratio.index > DROP_FROM]
    assert len(after) == 6 and after.between(0.95, 1.05).all(), after.round(3).to_dict()
    assert ratio["2018-05"] == pytest.approx(1.0, abs=0.05)  # before the drop


def test_the_weather_gain_is_reported_with_a_ci_that_excludes_zero(backtest):
    gain = backtest.weather_gain
    assert gain.low > 0, gain
    assert weather_verdict(gain) == "weather helps"
