"""The latest issue of robbery_forecast (GET /forecast), read from the warehouse (README, "Forecasts for the coming week").

The API reads the table the platform wrote (`<warehouse>/robbery_forecast/<issue date>.parquet`)
through core.storage, a folder or S3 as Settings say; it never computes a forecast itself. The newest
issue date wins, and a file is read again only when its version changes.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import pandas as pd

from crime_weather.core.names import (
    FORECAST_TABLE,
    INTERVAL_LEVELS,
    MAX_HORIZON_DAYS,
    RATE_RATIO_COLUMNS,
    WEATHER_FIELDS,
)
from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobInfo, BlobStore, open_store, parquet_to_frame
from crime_weather.modeling.forecasting.forecast import source_label
from serving.structs.responses import Forecast, ForecastRow, Interval


class ForecastReader:
    """The newest issue in the warehouse, cached by its file version."""

    def __init__(self, store: BlobStore, max_horizon_days: int = MAX_HORIZON_DAYS) -> None:
        self.store = store
        self.max_horizon_days = max_horizon_days
        self._cached: tuple[BlobInfo, pd.DataFrame] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, max_horizon_days: int = MAX_HORIZON_DAYS) -> ForecastReader:
        return cls(open_store(settings.warehouse, settings.s3_endpoint_url), max_horizon_days)

    def latest(self) -> tuple[str, pd.DataFrame] | None:
        """(issue date, table) of the newest issue, or None when none was issued yet."""
        issues = [info for info in self.store.list(f"{FORECAST_TABLE}/") if info.key.endswith(".parquet")]
        if not issues:
            return None
        newest = max(issues, key=lambda info: info.key)  # keys are ISO dates: they sort as days
        cached = self._cached
        if cached is None or (cached[0].key, cached[0].version) != (newest.key, newest.version):
            cached = (newest, parquet_to_frame(self.store.read(newest.key)))
            self._cached = cached
        return newest.key.rsplit("/", 1)[-1].removesuffix(".parquet"), cached[1]


def _number(value: Any) -> float | None:
    return None if value is None or value is pd.NA or math.isnan(value) else float(value)


def _interval(low: Any, high: Any) -> Interval | None:
    """None beyond the horizon (no count, no interval)."""
    return None if pd.isna(low) or pd.isna(high) else Interval(int(low), int(high))


def _row(record: dict[str, Any]) -> ForecastRow:
    intervals = {
        f"interval_{level}": _interval(record[f"interval_{level}_low"], record[f"interval_{level}_high"])
        for level in INTERVAL_LEVELS
    }
    horizon, reason = record.get("horizon_days"), record.get("reason")  # absent in issues before them
    return ForecastRow(
        date=record["date"].date(),
        comuna=int(record["comuna"]),
        horizon_days=None if horizon is None or pd.isna(horizon) else int(horizon),
        expected_robberies=_number(record["expected_robberies"]),
        **intervals,
        reason=None if reason is None or pd.isna(reason) else str(reason),
        **{name: _number(record.get(name)) for name in RATE_RATIO_COLUMNS},
        **{name: _number(record[name]) for name in WEATHER_FIELDS},
    )


def _data_through(table: pd.DataFrame) -> datetime.date | None:
    """The champion's last day of data, from any row: its date minus its horizon."""
    if "horizon_days" not in table or table.empty:
        return None
    first = table.iloc[0]
    return (first["date"] - pd.Timedelta(days=int(first["horizon_days"]))).date()


def forecast_response(
    issue: str, table: pd.DataFrame, comuna: int | None, days: int | None, max_horizon_days: int
) -> Forecast:
    """The issue's rows, optionally one comuna's and the first `days` days' (the issue date first)."""
    rows = table
    if comuna is not None:
        rows = rows[rows["comuna"] == comuna]
    if days is not None:
        rows = rows[rows["date"] < pd.Timestamp(issue) + pd.Timedelta(days=days)]
    rows = rows.sort_values(["date", "comuna"])
    first = table.iloc[0]
    return Forecast(
        issue_date=datetime.date.fromisoformat(issue),
        issued_at=first["issued_at"].to_pydatetime(),
        model_version=str(first["model_version"]),
        weather_source=source_label(str(first["weather_source"])),
        data_through=_data_through(table),
        max_horizon_days=max_horizon_days,
        rows=[_row(record) for record in rows.to_dict("records")],
    )
