"""The feature vocabulary: the name of every derived term and the one code that builds it.

daily_features (tables/features.py), the model (modeling/features/), the effects GLM and, through
the model, serving and the forecast all build a term here, so a threshold or a holiday lookup cannot
drift between them (crime_weather_tests/tables/test_terms.py fails on a second copy). Here, the
lowest layer that needs them: tables writes the calendar into daily_features.

Builders take arrays and return arrays (numpy, no per-row Python): serving builds them per request.
The normal of a day (modeling/features/normals.py) and the level (modeling/features/levels.py) need a
fitted table; they are named here and built there.
"""

from __future__ import annotations

import datetime as dt
import itertools
from functools import lru_cache
from typing import Any, Final

import holidays
import numpy as np

from crime_weather.core.names import CALENDAR_COLUMNS

# --- names ------------------------------------------------------------------------------------------

# Calendar terms, daily_features' columns in its order: weekday 0 = Monday (as pandas), month 1..12,
# day of year 1..366, Argentine national public holiday.
WEEKDAY, MONTH, DAY_OF_YEAR, IS_HOLIDAY = CALENDAR_COLUMNS
COMUNA: Final = "comuna"  # in the model's matrix, comunas 1..15 as codes 0..14

# Weather terms, from the day's raw fields (core.names.WEATHER_FIELDS).
RAIN_DAY: Final = "rain_day"  # 1.0 on a day with at least RAIN_DAY_MM of rain
RAIN_DAY_MM: Final = 1.0
LOG1P_RAIN: Final = "log1p_rain"  # log(1 + mm): the dose beyond the rain-day step
TEMP_MEAN: Final = "temp_mean"  # the daily mean temperature itself, °C
TEMP_ANOMALY: Final = "temp_anomaly"  # temp_mean minus its day-of-year normal (normals.py)
TEMPERATURE_EDGES: Final = (10.0, 15.0, 20.0, 25.0, 28.0)  # °C, bins closed on the left
TEMPERATURE_BIN_LABELS: Final = (
    f"< {TEMPERATURE_EDGES[0]:g} °C",
    *(f"{low:g}-{high:g} °C" for low, high in itertools.pairwise(TEMPERATURE_EDGES)),
    f">= {TEMPERATURE_EDGES[-1]:g} °C",
)

# The offset (modeling/features/levels.py): a comuna's recent robberies per day and the days of
# history it rests on.
LEVEL: Final = "level"
HISTORY_DAYS: Final = "history_days"

# --- calendar ---------------------------------------------------------------------------------------

_THURSDAY = 3  # 1970-01-01, day 0, was a Thursday


def as_days(values: Any) -> np.ndarray:
    """datetime64[D] of ISO date strings (what the API sends) or datetimes (what training has)."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.datetime64):
        return array.astype("datetime64[D]")
    return np.asarray(array.astype(str), dtype="datetime64[D]")


def weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("int64") + _THURSDAY) % 7


def month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype("int64") % 12 + 1


def day_of_year(days: np.ndarray) -> np.ndarray:
    return (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype("int64") + 1


@lru_cache(maxsize=256)
def argentine_holidays(year: int) -> frozenset[dt.date]:
    """Argentine national public holidays of `year` (the `holidays` library keeps the movable ones right)."""
    return frozenset(holidays.country_holidays("AR", years=year))


@lru_cache(maxsize=256)
def _holiday_days(year: int) -> np.ndarray:
    return np.array(sorted(argentine_holidays(year)), dtype="datetime64[D]")


def is_holiday(days: np.ndarray) -> np.ndarray:
    """Whether each day is an Argentine national public holiday (looked up per year, cached)."""
    if not len(days):
        return np.zeros(0, dtype=bool)
    years = np.unique(days.astype("datetime64[Y]").astype("int64") + 1970)
    known = np.concatenate([_holiday_days(int(year)) for year in years])
    return np.isin(days, known)


def calendar_terms(days: np.ndarray) -> dict[str, np.ndarray]:
    """Every calendar term of each day, by name, in daily_features' order."""
    return {
        WEEKDAY: weekday(days),
        MONTH: month(days),
        DAY_OF_YEAR: day_of_year(days),
        IS_HOLIDAY: is_holiday(days),
    }


# --- weather ----------------------------------------------------------------------------------------


def rain_terms(precipitation_mm: np.ndarray) -> dict[str, np.ndarray]:
    """rain_day and log1p_rain of each day's precipitation (a negative value counts as none)."""
    rain = np.maximum(np.asarray(precipitation_mm, dtype="float64"), 0.0)
    return {RAIN_DAY: (rain >= RAIN_DAY_MM).astype("float64"), LOG1P_RAIN: np.log1p(rain)}


def rained(precipitation_mm: np.ndarray) -> np.ndarray:
    """Days with any rain at all (> 0 mm): the days that tell log1p_rain's dose apart."""
    return np.asarray(precipitation_mm, dtype="float64") > 0.0


def anomaly(values: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """How far each value is from its day's normal (same units): temp_anomaly of temp_mean."""
    return np.asarray(values, dtype="float64") - normal


def temperature_bin(temp_mean: np.ndarray) -> np.ndarray:
    """Index into TEMPERATURE_BIN_LABELS of each daily mean temperature (NaN: the last bin; fill first)."""
    return np.digitize(temp_mean, TEMPERATURE_EDGES)
