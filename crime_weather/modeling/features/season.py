"""The city's seasonal index per calendar month, and the seasonal step a frozen level misses.

A model trained up to an origin predicts month h with the level known at the origin, which reflects
the month before it. Its day-of-year effect was learnt on rows one month from their level, so it
carries the season's last step (the month before the target to the target) and not the steps in
between: from a June origin, a November target gets November's rise over October, not the rise from
June's low to October. The missing part is the seasonal step S(target - 1) - S(origin - 1) of the
log seasonal index S. How much of it to carry at each horizon is calibrated (modeling.selection.
calibration) on months the backtest never scores; the index itself comes from the fit's own history.

The index is the classical ratio to a moving average: the log monthly mean of the city's daily
robberies minus its centred 2x12 moving average (which removes the level's trend), averaged per
calendar month and centred on 0. Every calendar month needs a value (about two years of history):
with less the index is 0 and no step is carried.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MONTHS_PER_YEAR = 12
MIN_DAYS_PER_MONTH = 20  # a month with fewer days of complete data does not enter the index
_TREND_WEIGHTS = np.r_[0.5, np.ones(11), 0.5] / MONTHS_PER_YEAR  # the centred 2x12 moving average


def seasonal_index(history: np.ndarray, first_day: np.datetime64) -> np.ndarray:
    """S per calendar month (0 = January) from `history` (days x comunas, NaN without data) that
    starts on `first_day`; zeros where the history cannot say."""
    complete = ~np.isnan(history).any(axis=1)
    days = first_day + np.arange(len(history))
    city = pd.Series(np.where(complete, history.sum(axis=1), np.nan), index=pd.DatetimeIndex(days))
    monthly = city.resample("MS").agg(["mean", "count"])
    logs = np.log(monthly["mean"].where(monthly["count"] >= MIN_DAYS_PER_MONTH).clip(lower=1e-9))
    if len(logs) < len(_TREND_WEIGHTS):
        return np.zeros(MONTHS_PER_YEAR)
    trend = np.convolve(logs.to_numpy(), _TREND_WEIGHTS, mode="valid")  # NaN where a month is missing
    half = len(_TREND_WEIGHTS) // 2
    detrended = pd.Series(logs.to_numpy()[half : len(logs) - half] - trend)
    calendar = monthly.index.month.to_numpy()[half : len(logs) - half] - 1
    index = detrended.groupby(calendar).mean().reindex(range(MONTHS_PER_YEAR))
    if index.isna().any():
        return np.zeros(MONTHS_PER_YEAR)
    return (index - index.mean()).to_numpy()


def seasonal_steps(index: np.ndarray, days: np.ndarray, last_day: np.datetime64 | int) -> np.ndarray:
    """S(month before the day's) - S(month before the origin's) of each day (datetime64[D]) for a
    model whose data end on `last_day` (the origin: the day after it): 0 in the origin's month."""
    origin = (np.datetime64(last_day, "D") + 1).astype("datetime64[M]").astype("int64")
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    # datetime64[M] counts months from 1970-01, a January: its remainder by 12 is the calendar month
    return index[(month - 1) % MONTHS_PER_YEAR] - index[(origin - 1) % MONTHS_PER_YEAR]
