"""Many months in one pass: validate and featurize once, then split into monthly partitions.

A run covers many months; doing the work per month would pay Pandera's and pandas' fixed costs fifty
times. The assets and benchmarks/ingest.py both call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from crime_weather.core.months import month_days, split_by_month
from crime_weather.sources.crime import CrimeParse
from crime_weather.sources.weather import CombinedWeather, SourceSeries, combine_weather
from crime_weather.tables.features import build_daily_features, covered_days
from crime_weather.tables.schemas import (
    daily_features_schema,
    raw_crime_schema,
    raw_weather_schema,
    validate_by_month,
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
    problems = validate_by_month(raw_crime_schema(), selected, months)
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
    problems = validate_by_month(raw_weather_schema(), combined.frame, months)
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
    problems = validate_by_month(daily_features_schema(), features, months)
    return MonthlyTables(split_by_month(features, months), problems)
