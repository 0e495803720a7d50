"""Day-of-year weather normals: what a missing weather value is replaced with.

A missing value is not a category of its own: to trees, "weather missing" meant "2016" (the older
release has no weather), and a request without weather went down 2016's branches. Filled with the
normal of its day, a missing value predicts as normal weather does.
"""

from __future__ import annotations

import numpy as np

from crime_weather.core.names import WEATHER_FIELDS

DAYS_IN_YEAR = 366  # tables are indexed by day of year - 1
HARMONICS = 2  # annual cycle and its first overtone
DRY = "precipitation_mm"  # the normal of rain is no rain: most days are dry, a mean would be wet every day
_MIN_DAYS = 365  # fewer observed days than a year: a constant (harmonics fitted on a few months
# would extrapolate into the unseen season)


def _design(day_of_year: np.ndarray) -> np.ndarray:
    angle = 2 * np.pi * (day_of_year.astype("float64") - 1) / 365.25
    columns = [np.ones_like(angle)]
    for k in range(1, HARMONICS + 1):
        columns += [np.cos(k * angle), np.sin(k * angle)]
    return np.column_stack(columns)


def seasonal_normal(day_of_year: np.ndarray, values: np.ndarray) -> np.ndarray:
    """366 values: least squares of a constant and annual harmonics over the observed days (each
    distinct day once). A field never observed gets NaN (it is never used); one observed on fewer
    days than a year, its mean."""
    observed = np.isfinite(values)
    if observed.sum() < _MIN_DAYS:
        mean = float(values[observed].mean()) if observed.any() else np.nan
        return np.full(DAYS_IN_YEAR, mean)
    beta, *_ = np.linalg.lstsq(_design(day_of_year[observed]), values[observed], rcond=None)
    return _design(np.arange(1, DAYS_IN_YEAR + 1)) @ beta


def normals_table(day_of_year: np.ndarray, weather: np.ndarray) -> np.ndarray:
    """Fields x 366 normals from one row per distinct day (`weather`: days x WEATHER_FIELDS)."""
    table = np.vstack([seasonal_normal(day_of_year, weather[:, i]) for i in range(len(WEATHER_FIELDS))])
    table[WEATHER_FIELDS.index(DRY)] = 0.0
    return table
