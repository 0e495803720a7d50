"""Row checks shared by the tables of claims (robbery_forecast, champion_outlook): the issue's
window, nested intervals, and a count or (beyond the horizon) a reason on every row."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from crime_weather.core.names import INTERVAL_LEVELS


def forecast_window(issue_date: str | None, days: int | None) -> list[pa.Check]:
    """Every forecast day lies in the issue's window: the issue date and the `days - 1` after it."""
    if issue_date is None or days is None:
        return []
    first = pd.Timestamp(issue_date)
    last = first + pd.Timedelta(days=days - 1)
    return [
        pa.Check(
            lambda frame: frame["date"].between(first, last),
            element_wise=False,
            error=f"every date falls in the issue's window {first:%Y-%m-%d}..{last:%Y-%m-%d}",
            name="dates_in_window",
        )
    ]


def nested_intervals(frame: pd.DataFrame) -> pd.Series:
    """0 <= low 95 <= low 80 <= high 80 <= high 95, row by row (rows without intervals pass)."""
    (low_80, high_80), (low_95, high_95) = (
        (frame[f"interval_{level}_low"], frame[f"interval_{level}_high"]) for level in INTERVAL_LEVELS
    )
    nested = (low_95 <= low_80) & (low_80 <= high_80) & (high_80 <= high_95)
    return nested.fillna(True).astype(bool)  # no interval (beyond the horizon): nothing to nest


COUNT_OR_REASON = pa.Check(
    lambda frame: frame["expected_robberies"].isna() == frame["reason"].notna(),
    element_wise=False,
    error="a row has a count or, beyond the horizon, a reason, never both",
    name="count_or_reason",
)
