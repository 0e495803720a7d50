"""Dates as arrays: ISO strings (what the API sends) or datetimes (what training has) to day numbers,
weekday, day of year and Argentine public holidays, without a per-row Python loop."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from crime_weather.tables.features import argentine_holidays

_THURSDAY = 3  # 1970-01-01, day 0, was a Thursday; weekday 0 is Monday as in pandas


def as_days(values: Any) -> np.ndarray:
    """datetime64[D] of a column of ISO date strings or datetimes."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[D]")
    return np.asarray(array.astype(str), dtype="datetime64[D]")


def weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("int64") + _THURSDAY) % 7


def day_of_year(days: np.ndarray) -> np.ndarray:
    return (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype("int64") + 1


@lru_cache(maxsize=256)
def _holiday_days(year: int) -> np.ndarray:
    return np.array(sorted(argentine_holidays(year)), dtype="datetime64[D]")


def is_holiday(days: np.ndarray) -> np.ndarray:
    """Argentine national public holidays (the `holidays` library, cached per year)."""
    if not len(days):
        return np.zeros(0, dtype=bool)
    years = np.unique(days.astype("datetime64[Y]").astype("int64") + 1970)
    known = np.concatenate([_holiday_days(int(year)) for year in years])
    return np.isin(days, known)
