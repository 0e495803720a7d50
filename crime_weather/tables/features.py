"""The (date x comuna) grid of one month: robbery counts, the day's weather and its calendar."""

from __future__ import annotations

import pandas as pd

from crime_weather.core.months import month_days
from crime_weather.core.names import COMUNAS, ROBBERY_TYPE, TARGET, WEATHER_FIELDS
from crime_weather.tables.terms import as_days, calendar_terms


def covered_days(events: pd.DataFrame, month: str) -> pd.DatetimeIndex:
    """The month's days from its first to its last event: a release that stops mid-month does not
    turn the days after it into days without crime."""
    days = month_days(month)
    if events.empty:
        return days[:0]
    return days[(days >= events["date"].min()) & (days <= events["date"].max())]


def calendar_columns(dates: pd.Series) -> pd.DataFrame:
    """daily_features' calendar columns of each date, built by the vocabulary (tables/terms.py) that
    the model builds its own from."""
    return pd.DataFrame(calendar_terms(as_days(pd.to_datetime(dates))), index=dates.index)


def robbery_counts(events: pd.DataFrame) -> pd.Series:
    """Robberies (any subtype) per (date, comuna); events without a comuna cannot be placed."""
    robberies = events[(events["crime_type"] == ROBBERY_TYPE) & events["comuna"].notna()]
    return robberies.groupby([robberies["date"], robberies["comuna"].astype("int64")])["count"].sum()


def build_daily_features(events: pd.DataFrame, weather: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """The complete grid of `days` x comunas 1..15 with `robberies` (0 where none), the day's weather
    and its calendar. Works on any span of days, so a run featurizes all its months in one pass."""
    grid = pd.MultiIndex.from_product([days, COMUNAS], names=["date", "comuna"])
    counts = robbery_counts(events).reindex(grid, fill_value=0)
    frame = counts.rename(TARGET).astype("int64").reset_index()
    weather_by_day = weather.set_index("date")[list(WEATHER_FIELDS)]
    frame = frame.join(weather_by_day, on="date")
    frame = pd.concat([frame, calendar_columns(frame["date"])], axis=1)
    frame["comuna"] = frame["comuna"].astype("int64")
    return frame
