"""Pandera schemas of every table: run as blocking asset checks and used by the tests.

Schemas are functions of the partition month, so "every date belongs to its partition" and "the
grid is complete" are part of the contract, not separate code.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from crime_weather.core.months import month_days, month_mask
from crime_weather.core.names import COMUNAS, TARGET, WEATHER_BOUNDS, WEATHER_FIELDS
from crime_weather.sources.crime import LATITUDE_RANGE, LONGITUDE_RANGE

_STRING = pd.StringDtype("pyarrow")


def _in_month(month: str | None) -> list[pa.Check]:
    if month is None:
        return []
    return [
        pa.Check(
            lambda frame: month_mask(frame["date"], month),
            element_wise=False,
            error=f"every date falls in {month}",
            name="dates_in_partition",
        )
    ]


def _weather_columns() -> dict[str, pa.Column]:
    return {
        name: pa.Column(float, pa.Check.in_range(*WEATHER_BOUNDS[name]), nullable=True)
        for name in WEATHER_FIELDS
    }


def raw_crime_schema(month: str | None = None) -> pa.DataFrameSchema:
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
        checks=_in_month(month),
        strict=True,
        ordered=True,
        name="raw_crime",
    )


def raw_weather_schema(month: str | None = None) -> pa.DataFrameSchema:
    checks = _in_month(month)
    if month is not None:
        days = len(month_days(month))
        checks.append(
            pa.Check(
                lambda frame: len(frame) == days, error=f"one row per day: {days} rows", name="every_day"
            )
        )
    return pa.DataFrameSchema(
        {"date": pa.Column("datetime64[ns]", unique=True, nullable=False), **_weather_columns()},
        checks=checks,
        strict=True,
        ordered=True,
        name="raw_weather",
    )


def daily_features_schema(month: str | None = None) -> pa.DataFrameSchema:
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
            *_in_month(month),
            pa.Check(
                lambda frame: (
                    frame.groupby("date")["comuna"].nunique().eq(len(COMUNAS)).all()
                    and len(frame) == frame["date"].nunique() * len(COMUNAS)
                ),
                error="complete grid: every date has each comuna 1..15 exactly once",
                name="complete_grid",
            ),
        ],
        unique=["date", "comuna"],
        strict=True,
        ordered=True,
        name="daily_features",
    )


def validate_split(train: pd.DataFrame, test: pd.DataFrame) -> list[str]:
    """The temporal split's contract: both sides are valid daily features (target never null), they are
    disjoint, and every test day comes after every train day."""
    problems = []
    for name, frame in (("train", train), ("test", test)):
        if frame.empty:
            problems.append(f"{name} is empty")
            continue
        try:
            daily_features_schema().validate(frame, lazy=True)
        except pa.errors.SchemaErrors as error:
            problems.append(
                f"{name}: {error.failure_cases[['column', 'check']].drop_duplicates().to_dict('records')}"
            )
    if not train.empty and not test.empty:
        if test["date"].min() <= train["date"].max():
            problems.append(
                f"test starts {test['date'].min():%Y-%m-%d}, not after train's last day {train['date'].max():%Y-%m-%d}"
            )
        overlap = train.merge(test, on=["date", "comuna"], how="inner")
        if len(overlap):
            problems.append(f"{len(overlap)} (date, comuna) rows are in both train and test")
    return problems


def summarize_cases(cases: pd.DataFrame, limit: int = 10) -> str:
    """Pandera failure cases in a few lines: each failing check, how many cases, and examples."""
    lines = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        examples = ", ".join(map(str, group["failure_case"].head(3).tolist()))
        lines.append(f"{column}: {check} ({len(group)} failures, e.g. {examples})")
    return "\n".join(lines[:limit])


def validate_by_month(schema: pa.DataFrameSchema, frame: pd.DataFrame, months: list[str]) -> dict[str, str]:
    """Validate many months in one pass and say which months fail and why.

    Row-level failures belong to the month of their row; table-level ones to every month.
    """
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases
        rows = pd.to_numeric(cases["index"], errors="coerce")
        located = (rows.notna() & rows.isin(frame.index)).to_numpy()
        failing: dict[str, list[pd.DataFrame]] = {}
        if located.any():
            dates = frame.loc[rows[located].astype("int64"), "date"]
            numbers = (dates.dt.year * 100 + dates.dt.month).to_numpy()
            for number in set(numbers.tolist()):
                month = f"{number // 100:04d}-{number % 100:02d}"
                failing.setdefault(month, []).append(cases[located][numbers == number])
        if (~located).any():
            for month in months:
                failing.setdefault(month, []).append(cases[~located])
        return {
            month: summarize_cases(pd.concat(parts)) for month, parts in failing.items() if month in months
        }
    return {}
