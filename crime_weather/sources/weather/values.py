"""Canonical daily values from a source's raw text: numbers, dates, units, one row per day, one series per station."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Columns = dict[str, pd.Series]


@dataclass
class SourceSeries:
    """Daily canonical weather from one source (a station or a product) of one file."""

    source: str
    frame: pd.DataFrame  # index "date" (unique days); columns: a subset of WEATHER_FIELDS


def text(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as trimmed strings; all missing when the file lacks it."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip()


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """Decimal comma or point; "S/D", "SD" and other text become NaN."""
    values = text(frame, column).str.replace(",", ".", regex=False)
    return pd.to_numeric(values, errors="coerce").astype("float64")


def iso_dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(text(frame, column).str[:10], format="%Y-%m-%d", errors="coerce")


def daily(dates: pd.Series, values: Columns) -> pd.DataFrame:
    """One row per valid date (the first when a date repeats), canonical columns only."""
    frame = pd.DataFrame({name: series.to_numpy() for name, series in values.items()})
    frame.index = pd.DatetimeIndex(dates.to_numpy(), name="date")
    frame = frame[frame.index.notna()].dropna(how="all")
    return frame[~frame.index.duplicated(keep="first")].sort_index()


def per_station(
    frame: pd.DataFrame,
    station_column: str | None,
    prefix: str,
    build: Callable[[pd.DataFrame], pd.DataFrame],
) -> list[SourceSeries]:
    """One series per station of a multi-station file ("prefix:station"), or one for the whole file."""
    if station_column is None or station_column not in frame:
        return [SourceSeries(prefix, build(frame))]
    stations = text(frame, station_column).fillna("unknown")
    return [
        SourceSeries(f"{prefix}:{station}", build(part))
        for station, part in frame.groupby(stations, sort=True)
    ]


def relative_humidity(temp_c: pd.Series, dew_point_c: pd.Series) -> pd.Series:
    """Relative humidity (%) from temperature and dew point (Magnus formula, Alduchov & Eskridge 1996)."""
    a, b = 17.625, 243.04
    return 100 * np.exp(a * dew_point_c / (b + dew_point_c)) / np.exp(a * temp_c / (b + temp_c))


_UNIT_FACTORS = {"m/s": (3.6, 0.0), "mph": (1.609344, 0.0), "kn": (1.852, 0.0), "inch": (25.4, 0.0)}


def to_canonical_unit(values: pd.Series, unit: str) -> pd.Series:
    """°C, mm, km/h and hPa from the units a provider may use instead (°F, m/s, mph, kn, inch)."""
    unit = unit.strip().lower()
    if unit in ("°f", "degf"):
        return (values - 32) * 5 / 9
    factor, offset = _UNIT_FACTORS.get(unit, (1.0, 0.0))
    return values * factor + offset
