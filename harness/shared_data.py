"""The shared real data (../shared/data/raw) through the same functions the assets call, in process.

For benchmarks and model studies that need every month's tables without a Dagster instance. Files
sorted by name stand for landing order: the later file wins the months two crime files cover.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from crime_weather.core.settings import DEFAULT_WEATHER_PRIORITY
from crime_weather.sources.catalog import CRIME, WEATHER, classify
from crime_weather.sources.crime.parsing import CrimeParse, parse_crime
from crime_weather.sources.files import open_raw
from crime_weather.sources.weather.parsing import parse_weather
from crime_weather.sources.weather.values import SourceSeries
from crime_weather.tables.validation import crime_partitions, feature_partitions, weather_partitions

SHARED_RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"


@dataclass
class Parsed:
    files: int
    crimes: list[CrimeParse] = field(default_factory=list)
    series: list[SourceSeries] = field(default_factory=list)


@dataclass
class Tables:
    crime: dict[str, pd.DataFrame]
    features: dict[str, pd.DataFrame]
    problems: dict[str, str]


def parse_folder(data: Path) -> Parsed:
    """Every crime and weather file of `data`, parsed on all cores (pyarrow releases the GIL)."""
    paths = sorted(path for path in data.iterdir() if path.is_file())

    def load(path: Path) -> tuple[str, object]:
        raw = open_raw(path.read_bytes(), path.name)
        kind = classify(raw)[0]
        if kind == CRIME:
            return kind, parse_crime(raw)
        return kind, parse_weather(raw) if kind == WEATHER else None

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        loaded = list(pool.map(load, paths))
    parsed = Parsed(len(paths))
    parsed.crimes = [item for kind, item in loaded if kind == CRIME]
    parsed.series = [series for kind, item in loaded if kind == WEATHER for series in item.series]
    return parsed


def monthly_tables(
    parsed: Parsed, priority: Sequence[str] = DEFAULT_WEATHER_PRIORITY, max_bad_share: float = 0.01
) -> Tables:
    """raw_crime, raw_weather and daily_features of every month, as one ingest run per file builds them."""
    winner: dict[str, CrimeParse] = {}
    for crimes in parsed.crimes:
        winner.update(dict.fromkeys(crimes.months, crimes))
    crime: dict[str, pd.DataFrame] = {}
    problems: dict[str, str] = {}
    for crimes in parsed.crimes:
        won = sorted(month for month, file in winner.items() if file is crimes)
        tables = crime_partitions(crimes, won, max_bad_share)
        crime.update(tables.frames)
        problems.update(tables.problems)
    months = sorted(winner)
    weather, _ = weather_partitions(parsed.series, months, priority)
    features = feature_partitions(crime, weather.frames, months)
    return Tables(crime, features.frames, {**problems, **weather.problems, **features.problems})


def daily_features(
    data: Path = SHARED_RAW, priority: Sequence[str] = DEFAULT_WEATHER_PRIORITY
) -> dict[str, pd.DataFrame]:
    """daily_features of every month in `data` (no bad-row limit: a benchmark wants every month)."""
    return monthly_tables(parse_folder(data), priority, max_bad_share=1.0).features
