"""Month keys (YYYY-MM): the partition unit. Integer arithmetic, because strftime is ~50x slower."""

from __future__ import annotations

import pandas as pd


def month_days(month: str) -> pd.DatetimeIndex:
    """Every day of a YYYY-MM month."""
    start = pd.Timestamp(f"{month}-01")
    return pd.date_range(start, start + pd.offsets.MonthEnd(0), freq="D", name="date")


def month_mask(dates: pd.Series, month: str) -> pd.Series:
    """Which dates fall in a YYYY-MM month."""
    year, number = (int(part) for part in month.split("-"))
    return (dates.dt.year == year) & (dates.dt.month == number)


def months_of(dates: pd.Series) -> list[str]:
    """Sorted distinct YYYY-MM keys of a datetime series."""
    return sorted(str(period) for period in dates.dt.to_period("M").dropna().unique())


def split_by_month(
    frame: pd.DataFrame, months: list[str] | None = None, column: str = "date"
) -> dict[str, pd.DataFrame]:
    """One frame per month in a single pass; months asked for but absent get an empty frame."""
    number = (frame[column].dt.year * 100 + frame[column].dt.month).to_numpy()
    parts = {
        f"{key // 100:04d}-{key % 100:02d}": part.reset_index(drop=True)
        for key, part in frame.groupby(number, sort=True)
    }
    if months is None:
        return parts
    return {month: parts.get(month, frame.iloc[:0]) for month in months}
