"""Many months in one pass: validate and featurize once, then split into monthly partitions.

A run covers many months; doing the work per month would pay Pandera's and pandas' fixed costs fifty
times. The schemas get the run's months, so their partition checks (dates in partition, every day,
complete grid) run here too, and each failure is traced back to its month. The assets and
benchmarks/ingest.py both call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from crime_weather.core.months import month_days, split_by_month
from crime_weather.sources.crime.parsing import CrimeParse
from crime_weather.sources.weather.combine import CombinedWeather, combine_weather
from crime_weather.sources.weather.values import SourceSeries
from crime_weather.tables.features import build_daily_features, covered_days
from crime_weather.tables.schemas import (
    daily_features_schema,
    raw_crime_schema,
    raw_weather_schema,
    robbery_forecast_schema,
)


@dataclass
class MonthlyTables:
    """One frame per month, and the months that failed their schema (with the reason)."""

    frames: dict[str, pd.DataFrame]
    problems: dict[str, str] = field(default_factory=dict)


def crime_partitions(parsed: CrimeParse, months: list[str], max_bad_share: float) -> MonthlyTables:
    """The file's events for each month, validated together; a file over the bad-row limit fails all."""
    frames = split_by_month(parsed.events, months)
    selected = pd.concat(frames.values(), ignore_index=True) if frames else parsed.events.iloc[:0]
    problems = validate_by_month(raw_crime_schema(months), selected, months)
    if parsed.bad_share > max_bad_share:
        examples = "; ".join(map(str, parsed.bad_samples[:5]))
        refused = (
            f"{parsed.events['source_file'].iloc[0] if len(parsed.events) else 'the file'} refused: "
            f"{parsed.bad_rows} of {parsed.rows_read} rows unusable ({parsed.bad_share:.2%} > limit "
            f"{max_bad_share:.2%}); {examples}"
        )
        problems = dict.fromkeys(months, refused)
    return MonthlyTables(frames, problems)


def weather_partitions(
    series: list[SourceSeries], months: list[str], priority: list[str] | tuple[str, ...]
) -> tuple[MonthlyTables, CombinedWeather]:
    """Every day of every month from the best source per variable, validated together."""
    days = pd.DatetimeIndex(sorted(day for month in months for day in month_days(month)), name="date")
    combined = combine_weather(days, series, priority)
    problems = validate_by_month(raw_weather_schema(months), combined.frame, months)
    return MonthlyTables(split_by_month(combined.frame, months), problems), combined


def feature_partitions(
    crime: dict[str, pd.DataFrame], weather: dict[str, pd.DataFrame], months: list[str]
) -> MonthlyTables:
    """The (date x comuna) grid of every month, built and validated in one pass."""
    days = pd.DatetimeIndex(
        sorted(day for month in months for day in covered_days(crime[month], month)), name="date"
    )
    events = pd.concat([crime[month] for month in months], ignore_index=True)
    daily_weather = pd.concat([weather[month] for month in months], ignore_index=True)
    features = build_daily_features(events, daily_weather, days)
    problems = validate_by_month(daily_features_schema(months), features, months)
    return MonthlyTables(split_by_month(features, months), problems)


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
    """Pandera failure cases in a few lines: each failing check, how many cases, and examples.

    A table-level check (e.g. every day of the month) is one line with the rows it failed on, not one
    line per column, which is how Pandera lists it.
    """
    lines = []
    table = (cases["schema_context"] == "DataFrameSchema").to_numpy()
    for check, group in cases[table].groupby("check", sort=True):
        rows = group["index"].dropna().nunique()
        lines.append(f"{check} ({rows} rows)" if rows else str(check))
    for (column, check), group in cases[~table].groupby(["column", "check"], dropna=False, sort=True):
        examples = ", ".join(map(str, group["failure_case"].head(3).tolist()))
        lines.append(f"{column}: {check} ({len(group)} failures, e.g. {examples})")
    return "\n".join(lines[:limit])


def validate_by_month(schema: pa.DataFrameSchema, frame: pd.DataFrame, months: list[str]) -> dict[str, str]:
    """Validate many months in one pass and say which months fail and why.

    A row-level failure belongs to the month of its row; a table-level one, or one on a row outside
    the run's months (or without a date), to every month of the run.
    """
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases.reset_index(drop=True)
        rows = pd.to_numeric(cases["index"], errors="coerce")
        located = rows.notna() & rows.isin(frame.index)
        month_of_case = pd.Series(pd.NA, index=cases.index, dtype="object")
        dates = frame.loc[rows[located].astype("int64"), "date"]
        month_of_case[located] = dates.dt.strftime("%Y-%m").to_numpy()
        placed = month_of_case.isin(months)
        failing = {
            month: pd.concat([cases[(month_of_case == month).fillna(False)], cases[~placed]])
            for month in months
            if (month_of_case == month).any() or (~placed).any()
        }
        return {month: summarize_cases(part) for month, part in failing.items()}
    return {}


def validate_forecast(frame: pd.DataFrame, issue_date: str, days: int) -> str | None:
    """Why one issue of robbery_forecast breaks its schema, or None when it holds."""
    if frame.empty:
        return "no rows: the forecast has no day"
    try:
        robbery_forecast_schema(issue_date, days).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        return summarize_cases(error.failure_cases.reset_index(drop=True))
    return None
