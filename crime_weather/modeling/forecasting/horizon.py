"""How far ahead a claim reaches: defined once, for the outlook, the scorecard and the API.

`data_through` is the last day of crime data the fitted pipeline was trained on (its `history_end`):
every later day is a forecast, whatever the weather. `horizon_days` counts from there (data_through + 1
is horizon 1). Outlooks are scored by horizon *month*, in calendar months: month 1 is the calendar
month of data_through + 1, month 2 the next, ... So a scored month (a `months` partition) is one
horizon of each outlook, never a few days of two: ceil(horizon_days / 30.5) was tried and, on the real
data through 2019-06, cut every month into a 29-day and a 1-day bucket, the latter too small to judge.
184 days is the longest six calendar months (July..December); a shorter six leaves a day or two in a
seventh month, scored as month 6 (the last horizon) in that month's partition. Forecasts are scored by
lead day: the issue day is day 1, the next day 2, ... (core.names.FORECAST_MAX_DAYS).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.core.names import MAX_HORIZON_DAYS
from crime_weather.modeling.estimation.pipeline import history_end
from crime_weather.modeling.features.horizon import HORIZON_MONTHS, month_horizon

__all__ = [
    "MAX_HORIZON_DAYS",
    "MAX_HORIZON_MONTHS",
    "data_through",
    "horizon_days",
    "horizon_month",
    "lead_day",
]
MAX_HORIZON_MONTHS = HORIZON_MONTHS


def data_through(pipeline: Pipeline) -> pd.Timestamp:
    """The last day of crime data the fitted pipeline knows."""
    return pd.Timestamp(history_end(pipeline))


def horizon_days(dates: npt.ArrayLike, through: pd.Timestamp) -> np.ndarray:
    """Days from `through` to each date (its next day is 1)."""
    days = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))) - pd.Timestamp(through)
    return np.asarray(days.days, dtype="int64")


def horizon_month(dates: npt.ArrayLike, through: pd.Timestamp) -> np.ndarray:
    """The horizon month (1..6) of each date: the pipeline's own month horizon
    (features.horizon.month_horizon), later months scored as the last horizon."""
    days = pd.to_datetime(np.asarray(dates)).to_numpy().astype("datetime64[D]")
    months = month_horizon(days, np.datetime64(pd.Timestamp(through).date(), "D"))
    return np.minimum(months, MAX_HORIZON_MONTHS).astype("int64")


def lead_day(dates: npt.ArrayLike, issued: npt.ArrayLike) -> np.ndarray:
    """A forecast's lead day: 1 on the issue day."""
    gap = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))) - pd.DatetimeIndex(
        pd.to_datetime(np.asarray(issued))
    )
    return np.asarray(gap.days, dtype="int64") + 1
