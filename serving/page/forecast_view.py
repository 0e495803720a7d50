"""The forecast issue as the page shows it: one selected day, one value per comuna.

It reads the table ForecastReader gives (the platform's columns), so the page and GET /forecast show the
same numbers. Rows beyond the model's horizon carry no count (`expected_robberies` null) but a `reason`
and the weather rate ratio with its interval: the page then colours by that ratio and says why.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


@dataclass(frozen=True)
class ComunaDay:
    """One comuna on the selected day: the count with its 80 % interval, or the weather rate ratio."""

    comuna: int
    expected: float | None
    low_80: int | None
    high_80: int | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    reason: str | None


@dataclass(frozen=True)
class ForecastView:
    """The issue, its days, the selected one and its 15 comunas."""

    issue: str
    model_version: str
    weather_source: str
    issued_at: str
    days: list[dt.date]
    day: dt.date
    comunas: list[ComunaDay]
    note: str | None  # why the day asked for is not the one shown

    @property
    def by_counts(self) -> bool:
        """Coloured by expected robberies when every comuna has a count, else by the weather rate ratio."""
        return all(row.expected is not None for row in self.comunas)

    @property
    def reasons(self) -> list[str]:
        """Why counts are missing on the selected day, each reason once."""
        return list(dict.fromkeys(row.reason for row in self.comunas if row.expected is None and row.reason))


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def forecast_view(issue: str, table: pd.DataFrame, asked: str | None) -> ForecastView:
    """The view of `table` (one issue) on the day `asked` (YYYY-MM-DD), the issue's first day by default
    or when that day is not in the issue (`note` says so)."""
    dates = pd.to_datetime(table["date"])
    days = sorted({stamp.date() for stamp in dates})
    wanted = _day(asked)
    day = wanted if wanted in days else days[0]
    note = None
    if asked and wanted not in days:
        note = f"{asked} is not a day of this forecast (it covers {days[0]} to {days[-1]}): showing {day}"
    rows = table[dates.dt.date == day].sort_values("comuna")

    def column(record: dict[str, Any], name: str) -> Any:
        return record.get(name)

    comunas = [
        ComunaDay(
            comuna=int(record["comuna"]),
            expected=_number(record["expected_robberies"]),
            low_80=_integer(column(record, "interval_80_low")),
            high_80=_integer(column(record, "interval_80_high")),
            ratio=_number(column(record, "weather_rate_ratio")),
            ratio_low=_number(column(record, "weather_rate_ratio_low")),
            ratio_high=_number(column(record, "weather_rate_ratio_high")),
            reason=_text(column(record, "reason")),
        )
        for record in rows.to_dict("records")
    ]
    first = table.iloc[0]
    return ForecastView(
        issue=issue,
        model_version=str(first["model_version"]),
        weather_source=str(first["weather_source"]),
        issued_at=pd.Timestamp(first["issued_at"]).strftime("%Y-%m-%d %H:%M UTC"),
        days=days,
        day=day,
        comunas=comunas,
        note=note,
    )
