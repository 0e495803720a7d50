"""How far ahead a claim reaches: defined once, for the outlook, the scorecard and the API.

`data_through` is the last day of crime data the fitted pipeline was trained on (its `history_end`):
every later day is a forecast, whatever the weather. `horizon_days` counts from there (data_through + 1
is horizon 1). Outlooks are scored by horizon *month*: ceil(horizon_days / 30.5), so days 1..30 are
month 1, 31..61 month 2, ...; the 184th day (the default horizon is six months of 30.5 days, rounded up
to whole days) joins month 6 rather than opening a month 7 of one day. Forecasts are scored by lead
day: the issue day is day 1, the next day 2, ... (core.names.FORECAST_MAX_DAYS).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.modeling.estimation.pipeline import history_end

MAX_HORIZON_DAYS = 184  # six months
DAYS_PER_MONTH = 30.5
MAX_HORIZON_MONTHS = 6


def data_through(pipeline: Pipeline) -> pd.Timestamp:
    """The last day of crime data the fitted pipeline knows."""
    return pd.Timestamp(history_end(pipeline))


def horizon_days(dates: npt.ArrayLike, through: pd.Timestamp) -> np.ndarray:
    """Days from `through` to each date (its next day is 1)."""
    days = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))) - pd.Timestamp(through)
    return np.asarray(days.days, dtype="int64")


def horizon_month(days: npt.ArrayLike) -> np.ndarray:
    """The horizon month (1..6) of horizons in days (>= 1): ceil(days / 30.5), the last day in 6."""
    months = np.ceil(np.asarray(days, dtype="float64") / DAYS_PER_MONTH).astype("int64")
    return np.clip(months, 1, MAX_HORIZON_MONTHS)


def lead_day(dates: npt.ArrayLike, issued: npt.ArrayLike) -> np.ndarray:
    """A forecast's lead day: 1 on the issue day."""
    gap = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))) - pd.DatetimeIndex(
        pd.to_datetime(np.asarray(issued))
    )
    return np.asarray(gap.days, dtype="int64") + 1
