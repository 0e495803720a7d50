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

from crime_weather.core.names import FORECAST_TABLE, INTERVAL_LEVELS, WEATHER_FIELDS
from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobInfo, BlobStore, open_store, parquet_to_frame
from serving.structs.responses import Forecast, ForecastRow, Interval


class ForecastReader:
    """The newest issue in the warehouse, cached by its file version."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self._cached: tuple[BlobInfo, pd.DataFrame] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ForecastReader:
        return cls(open_store(settings.warehouse, settings.s3_endpoint_url))

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


def _row(record: dict[str, Any]) -> ForecastRow:
    intervals = {
        f"interval_{level}": Interval(
            int(record[f"interval_{level}_low"]), int(record[f"interval_{level}_high"])
        )
        for level in INTERVAL_LEVELS
    }
    return ForecastRow(
        date=record["date"].date(),
        comuna=int(record["comuna"]),
        expected_robberies=float(record["expected_robberies"]),
        **intervals,
        **{name: _number(record[name]) for name in WEATHER_FIELDS},
    )


def forecast_response(issue: str, table: pd.DataFrame, comuna: int | None, days: int | None) -> Forecast:
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
        weather_source=str(first["weather_source"]),
        rows=[_row(record) for record in rows.to_dict("records")],
    )
