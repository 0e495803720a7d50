"""Pandera schemas of every table: run as blocking asset checks and used by the tests.

Schemas are functions of the partition months they validate, so "every date belongs to its
partition", "every day of the month is present" and "the grid is complete" are part of the contract
the assets run, not separate code. Those checks are row-level: a failure names its rows, and so the
month at fault (tables.validation.validate_by_month).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa

from crime_weather.core.names import (
    COMUNAS,
    INTERVAL_COLUMNS,
    RATE_RATIO_COLUMNS,
    TARGET,
    WEATHER_BOUNDS,
    WEATHER_FIELDS,
)
from crime_weather.sources.crime.fields import LATITUDE_RANGE, LONGITUDE_RANGE
from crime_weather.tables.claims import COUNT_OR_REASON, forecast_window, nested_intervals

_STRING = pd.StringDtype("pyarrow")


Months = str | Sequence[str] | None


def _month_numbers(months: Months) -> list[int] | None:
    if months is None:
        return None
    keys = [months] if isinstance(months, str) else list(months)
    return [int(key[:4]) * 100 + int(key[5:7]) for key in keys]


def _month_number(dates: pd.Series) -> pd.Series:
    return dates.dt.year * 100 + dates.dt.month


def _complete_grid() -> pa.Check:
    """Every date of the table has each comuna exactly once (daily_features, robbery_forecast)."""
    return pa.Check(
        lambda frame: frame.groupby("date")["comuna"].transform("size") == len(COMUNAS),
        element_wise=False,
        error="complete grid: every date has each comuna 1..15 exactly once",
        name="complete_grid",
    )


def _in_partitions(months: Months) -> list[pa.Check]:
    """Row-level, so a failure names the rows (and so the months) at fault."""
    numbers = _month_numbers(months)
    if numbers is None:
        return []
    label = months if isinstance(months, str) else f"its partition ({', '.join(months)})"
    return [
        pa.Check(
            lambda frame: _month_number(frame["date"]).isin(numbers),
            element_wise=False,
            error=f"every date falls in {label}",
            name="dates_in_partition",
        )
    ]


def _every_day(months: Months) -> list[pa.Check]:
    """Each row's month has one row per day: the rows of an incomplete month fail, not the others."""
    if months is None:
        return []

    def complete(frame: pd.DataFrame) -> pd.Series:
        rows = frame.groupby(_month_number(frame["date"]))["date"].transform("size")
        return rows == frame["date"].dt.days_in_month

    return [pa.Check(complete, element_wise=False, error="one row per day of the month", name="every_day")]


def _weather_columns() -> dict[str, pa.Column]:
    return {
        name: pa.Column(float, pa.Check.in_range(*WEATHER_BOUNDS[name]), nullable=True)
        for name in WEATHER_FIELDS
    }


def raw_crime_schema(months: Months = None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "event_id": pa.Column(_STRING, nullable=False),
            "date": pa.Column("datetime64[ns]", nullable=False),
            "hour": pa.Column("Int8", pa.Check.in_range(0, 23), nullable=True),
            "crime_type": pa.Column(_STRING, pa.Check.str_matches(r"^[^A-Z]+$"), nullable=False),
            "crime_subtype": pa.Column(_STRING, nullable=True),
            "comuna": pa.Column("Int8", pa.Check.in_range(1, 15), nullable=True),
            "barrio": pa.Column(_STRING, nullable=True),
            "latitude": pa.Column(float, pa.Check.in_range(*LATITUDE_RANGE), nullable=True),
            "longitude": pa.Column(float, pa.Check.in_range(*LONGITUDE_RANGE), nullable=True),
            "count": pa.Column("int64", pa.Check.ge(0), nullable=False),
            "source_file": pa.Column(_STRING, nullable=False),
        },
        checks=_in_partitions(months),
        strict=True,
        ordered=True,
        name="raw_crime",
    )


def raw_weather_schema(months: Months = None) -> pa.DataFrameSchema:
    checks = [*_in_partitions(months), *_every_day(months)]
    return pa.DataFrameSchema(
        {"date": pa.Column("datetime64[ns]", unique=True, nullable=False), **_weather_columns()},
        checks=checks,
        strict=True,
        ordered=True,
        name="raw_weather",
    )


def daily_features_schema(months: Months = None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "date": pa.Column("datetime64[ns]", nullable=False),
            "comuna": pa.Column("int64", pa.Check.isin(COMUNAS), nullable=False),
            TARGET: pa.Column("int64", pa.Check.ge(0), nullable=False),
            **_weather_columns(),
            "weekday": pa.Column("int64", pa.Check.in_range(0, 6)),
            "month": pa.Column("int64", pa.Check.in_range(1, 12)),
            "day_of_year": pa.Column("int64", pa.Check.in_range(1, 366)),
            "is_holiday": pa.Column(bool),
        },
        checks=[
            *_in_partitions(months),
            _complete_grid(),
        ],
        unique=["date", "comuna"],
        strict=True,
        ordered=True,
        name="daily_features",
    )


def robbery_forecast_schema(issue_date: str | None = None, days: int | None = None) -> pa.DataFrameSchema:
    """One issue of robbery_forecast: the complete (day x comuna) grid of the forecast days, each
    with its horizon, counts and nested intervals or (beyond the horizon) none and a reason, the
    weather rate ratio, the weather within bounds, and one model version and issue time."""
    columns = {
        "date": pa.Column("datetime64[ns]", nullable=False),
        "comuna": pa.Column("int64", pa.Check.isin(COMUNAS), nullable=False),
        "horizon_days": pa.Column("int64", nullable=False),
        "expected_robberies": pa.Column(float, pa.Check.ge(0), nullable=True),
        **{name: pa.Column("Int64", pa.Check.ge(0), nullable=True) for name in INTERVAL_COLUMNS},
        "reason": pa.Column(_STRING, nullable=True),
        **{name: pa.Column(float, pa.Check.gt(0), nullable=True) for name in RATE_RATIO_COLUMNS},
        **_weather_columns(),
        "model_version": pa.Column(_STRING, nullable=False),
        "weather_source": pa.Column(_STRING, nullable=False),
        "issued_at": pa.Column(pd.DatetimeTZDtype("ns", "UTC"), nullable=False),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[
            *forecast_window(issue_date, days),
            pa.Check(nested_intervals, element_wise=False, error="nested intervals", name="nested_intervals"),
            COUNT_OR_REASON,
            _complete_grid(),
            pa.Check(
                lambda frame: frame[["model_version", "issued_at"]].nunique().le(1).all(),
                error="one issue: a single model version and issue time",
                name="one_issue",
            ),
        ],
        unique=["date", "comuna"],
        strict=True,
        ordered=True,
        name="robbery_forecast",
    )


def champion_outlook_schema(
    version: str | None = None, max_horizon_days: int | None = None
) -> pa.DataFrameSchema:
    """One champion's outlook: the complete (day x comuna) grid of data_through + 1 .. data_through +
    `max_horizon_days`, one row per horizon day, nested intervals, positive naive levels, one version."""
    from crime_weather.core.names import NAIVE_COLUMNS

    horizon = pa.Check.ge(1) if max_horizon_days is None else pa.Check.in_range(1, max_horizon_days)
    checks = [
        pa.Check(nested_intervals, element_wise=False, error="nested intervals", name="nested_intervals"),
        _complete_grid(),
        pa.Check(
            lambda frame: (frame["date"] - frame["data_through"]).dt.days == frame["horizon_days"],
            element_wise=False,
            error="horizon_days = date - data_through",
            name="horizon_from_data_through",
        ),
        pa.Check(
            lambda frame: frame[["model_version", "issued_at", "data_through"]].nunique().le(1).all(),
            error="one outlook: a single version, data_through and issue time",
            name="one_outlook",
        ),
    ]
    if max_horizon_days is not None:
        checks.append(
            pa.Check(
                lambda frame: frame["horizon_days"].nunique() == max_horizon_days,
                error=f"every horizon day 1..{max_horizon_days} present",
                name="every_horizon_day",
            )
        )
    if version is not None:
        checks.append(
            pa.Check(
                lambda frame: frame["model_version"] == version,
                element_wise=False,
                error=f"every row is version {version}",
                name="its_version",
            )
        )
    columns = {
        "date": pa.Column("datetime64[ns]", nullable=False),
        "comuna": pa.Column("int64", pa.Check.isin(COMUNAS), nullable=False),
        "expected_robberies": pa.Column(float, pa.Check.ge(0), nullable=False),
        **{name: pa.Column("int64", pa.Check.ge(0), nullable=False) for name in INTERVAL_COLUMNS},
        "horizon_days": pa.Column("int64", horizon, nullable=False),
        **{name: pa.Column(float, pa.Check.gt(0), nullable=False) for name in NAIVE_COLUMNS},
        "data_through": pa.Column("datetime64[ns]", nullable=False),
        "model_version": pa.Column(_STRING, nullable=False),
        "issued_at": pa.Column(pd.DatetimeTZDtype("ns", "UTC"), nullable=False),
    }
    return pa.DataFrameSchema(
        columns, checks=checks, unique=["date", "comuna"], strict=True, ordered=True, name="champion_outlook"
    )


def forecast_scorecard_schema(month: str | None = None) -> pa.DataFrameSchema:
    """One month's scorecard: one row per (source, horizon), shares in [0, 1], scores >= 0."""
    from crime_weather.core.names import NAIVE_COLUMNS, SCORE_FIELDS

    share = pa.Check.in_range(0, 1)
    score = {
        "poisson_deviance": pa.Column(float, pa.Check.ge(0), nullable=False),
        "mae": pa.Column(float, pa.Check.ge(0), nullable=False),
        "pred_over_obs": pa.Column(float, pa.Check.ge(0), nullable=True),  # null: nothing observed
    }
    naive = {
        f"{name}_{field}": pa.Column(float, pa.Check.ge(0), nullable=True)
        for name in NAIVE_COLUMNS
        for field in SCORE_FIELDS
    }
    columns = {
        "month": pa.Column(_STRING, pa.Check.eq(month) if month else None, nullable=False),
        "source": pa.Column(_STRING, pa.Check.isin(["outlook", "forecast"]), nullable=False),
        "source_key": pa.Column(_STRING, nullable=False),
        "model_version": pa.Column(_STRING, nullable=False),
        "issued_at": pa.Column(pd.DatetimeTZDtype("ns", "UTC"), nullable=False),
        "horizon_unit": pa.Column(_STRING, pa.Check.isin(["month", "day"]), nullable=False),
        "horizon": pa.Column("int64", pa.Check.ge(1), nullable=False),
        "n": pa.Column("int64", pa.Check.ge(1), nullable=False),
        "observed_robberies": pa.Column(float, pa.Check.ge(0), nullable=False),
        "expected_robberies": pa.Column(float, pa.Check.ge(0), nullable=False),
        **score,
        "coverage_80": pa.Column(float, share, nullable=False),
        "coverage_95": pa.Column(float, share, nullable=False),
        **naive,
        "best_naive": pa.Column(_STRING, nullable=True),
        "best_naive_poisson_deviance": pa.Column(float, pa.Check.ge(0), nullable=True),
    }
    return pa.DataFrameSchema(
        columns,
        unique=["month", "source", "source_key", "issued_at", "horizon"],
        strict=True,
        ordered=True,
        name="forecast_scorecard",
    )
