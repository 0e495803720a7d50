"""GET /forecast: the latest issue of robbery_forecast, read from the warehouse (README, "Forecasts for the coming week").

The API reads the table the platform wrote (`<warehouse>/robbery_forecast/<issue date>.parquet`)
through core.storage, a folder or S3 as Settings say; it never computes a forecast itself. The newest
issue date wins, and a file is read again only when its version changes.
"""

from __future__ import annotations

import datetime
import math
from typing import Annotated, Any

import pandas as pd
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import Parameter
from msgspec import Meta, Struct

from crime_weather.core.names import (
    COMUNAS,
    FORECAST_MAX_DAYS,
    FORECAST_TABLE,
    INTERVAL_LEVELS,
    WEATHER_FIELDS,
)
from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobInfo, BlobStore, open_store, parquet_to_frame
from serving.errors import Refused, problem_specs
from serving.structs import Interval

STATE_KEY = "forecasts"


class ForecastRow(Struct):
    """One (day, comuna) of the forecast and the forecast weather it was predicted from."""

    date: Annotated[datetime.date, Meta(description="The forecast day.")]
    comuna: Annotated[int, Meta(ge=COMUNAS[0], le=COMUNAS[-1])]
    expected_robberies: Annotated[float, Meta(ge=0, description="The champion's expected count.")]
    interval_80: Annotated[Interval, Meta(description="80 % prediction interval of the count.")]
    interval_95: Annotated[Interval, Meta(description="95 % prediction interval of the count.")]
    temp_mean: float | None
    temp_min: float | None
    temp_max: float | None
    precipitation_mm: float | None
    humidity_pct: float | None
    wind_speed_kmh: float | None
    pressure_hpa: float | None


class Forecast(Struct):
    """The latest issue: what was forecast, with which model and from which weather forecast."""

    issue_date: Annotated[
        datetime.date, Meta(description="The day the forecast was issued for (its first day).")
    ]
    issued_at: Annotated[datetime.datetime, Meta(description="When it was computed (UTC).")]
    model_version: Annotated[str, Meta(description="Registered version of the champion that predicted it.")]
    weather_source: Annotated[str, Meta(description="Where the weather forecast came from.")]
    rows: Annotated[list[ForecastRow], Meta(description="Day by day, comuna 1..15 within a day.")]


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


class ForecastController(Controller):
    tags = ("forecasts",)

    @get(
        "/forecast",
        sync_to_thread=True,  # a warehouse read (a file or S3) blocks
        responses=problem_specs(400, 404, 503),
        summary="Expected robberies per comuna for the coming days, from the weather forecast",
        description="The latest issue of robbery_forecast: every (day, comuna) with 80 % and 95 % "
        "prediction intervals and the forecast weather used.",
    )
    def forecast(
        self,
        state: State,
        comuna: Annotated[
            int | None, Parameter(ge=COMUNAS[0], le=COMUNAS[-1], description="Only this comuna (1..15).")
        ] = None,
        days: Annotated[
            int | None,
            Parameter(
                ge=1,
                le=FORECAST_MAX_DAYS,
                description="Only the issue date and the N - 1 days after it (1..7).",
            ),
        ] = None,
    ) -> Forecast:
        reader: ForecastReader = state[STATE_KEY]
        try:
            latest = reader.latest()
        except Exception as error:  # an unreachable bucket, a damaged file: say so, do not crash
            detail = f"the forecast cannot be read from the warehouse ({type(error).__name__})"
            raise Refused(503, detail) from error
        if latest is None:
            reason = (
                "no forecast has been issued yet: one is issued every morning, after every promotion of "
                "a champion, and when a weather forecast file lands in the landing zone"
            )
            raise Refused(404, reason, None, reason)
        return forecast_response(*latest, comuna, days)
