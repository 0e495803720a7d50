"""raw_crime, raw_weather and daily_features: one month per partition, many months per run.

Each asset handles every partition of its run in one pass (a crime file is parsed once however many
months it supplies), validates all of them with its Pandera schema in one pass and reports which months fail as a
blocking check, so a bad partition stops everything downstream in the run.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from crime_weather.core.months import month_days
from crime_weather.core.names import ROBBERY_TYPE, TARGET, WEATHER_FIELDS
from crime_weather.orchestration.checks import schema_check, schema_result
from crime_weather.orchestration.metadata import (
    column_schema,
    date_range,
    markdown_table,
    null_rates,
)
from crime_weather.orchestration.partitions import monthly_asset
from crime_weather.orchestration.resources import IngestPolicy, LandingZone
from crime_weather.sources.catalog import WEATHER, LandingFile, crime_winners, newest_first
from crime_weather.sources.crime.layouts import layout_named
from crime_weather.sources.crime.parsing import CrimeParse, parse_crime
from crime_weather.sources.files import LandingFileError
from crime_weather.sources.weather.parsing import parse_weather
from crime_weather.sources.weather.values import SourceSeries
from crime_weather.tables.schemas import daily_features_schema, raw_crime_schema, raw_weather_schema
from crime_weather.tables.validation import crime_partitions, feature_partitions, weather_partitions

LANDING_CRIME = dg.AssetSpec(
    "landing_crime_files",
    group_name="landing",
    kinds={"csv"},
    description="Crime files in the landing zone (every official 'delitos' layout), seen by landing_sensor.",
)
LANDING_WEATHER = dg.AssetSpec(
    "landing_weather_files",
    group_name="landing",
    kinds={"csv"},
    description="Daily weather files in the landing zone (SMN, NOAA GHCN-Daily, Open-Meteo, CAMMESA).",
)


def monthly_table(
    schema: pa.DataFrameSchema, check: str, **kwargs: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """@dg.asset for a table stored one parquet file per month, many months in one run, guarded by
    its Pandera schema as a blocking check (`check` says what it holds) and showing it in the UI."""

    def decorate(function: Callable[..., Any]) -> dg.AssetsDefinition:
        return monthly_asset(
            io_manager_key="warehouse",
            check_specs=[schema_check(function.__name__, check)],
            group_name="ingest",
            kinds={"pandas", "parquet"},
            metadata={"dagster/column_schema": column_schema(schema)},
            **kwargs,
        )(function)

    return decorate


def _landing_failure(error: LandingFileError) -> dg.Failure:
    return dg.Failure(description=str(error), metadata={"file": error.name, "problem": error.problem})


@monthly_table(
    raw_crime_schema(),
    "Canonical crime schema per month; files over the bad-row limit fail.",
    deps=[LANDING_CRIME],
)
def raw_crime(
    context: dg.AssetExecutionContext, landing: LandingZone, ingest_policy: IngestPolicy
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Every crime event of the month in the canonical schema, from the most recently landed file
    that covers the month (releases supersede each other)."""
    partitions = list(context.partition_keys)
    outputs: dict[str, pd.DataFrame] = {}
    problems: dict[str, str] = {}
    for file, file_months in _files_for(landing, partitions).items():
        try:
            raw = landing.open(file)
            # The layout the sensor's description found: the file's header is not searched again.
            parsed = parse_crime(raw, layout=layout_named(raw, file.layout))
        except LandingFileError as error:
            raise _landing_failure(error) from error
        examples = "; ".join(map(str, parsed.bad_samples[:5]))
        context.log.info(
            f"{file.key}: layout {parsed.layout}, {parsed.rows_read} rows, {parsed.bad_rows} unusable"
            + (f" (e.g. {examples})" if examples else "")
        )
        tables = crime_partitions(parsed, file_months, ingest_policy.max_bad_row_share)
        outputs.update(tables.frames)
        problems.update(tables.problems)
        for month, frame in tables.frames.items():
            metadata = _crime_metadata(frame, file, parsed, tables.problems.get(month))
            context.add_asset_metadata(metadata, partition_key=month)
    yield dg.Output(outputs)
    yield schema_result(problems, partitions)


def _files_for(landing: LandingZone, partitions: list[str]) -> dict[LandingFile, list[str]]:
    """The months each winning crime file supplies to this run; every month must have one."""
    winners = crime_winners(landing.files())
    uncovered = [month for month in partitions if month not in winners]
    if uncovered:
        raise dg.Failure(f"No crime file in the landing zone {landing.uri} covers {', '.join(uncovered)}.")
    by_file: dict[LandingFile, list[str]] = defaultdict(list)
    for month in partitions:
        by_file[winners[month]].append(month)
    return by_file


def _crime_metadata(
    frame: pd.DataFrame, file: LandingFile, parsed: CrimeParse, problem: str | None
) -> dict[str, object]:
    robbery = frame["crime_type"] == ROBBERY_TYPE
    return {
        "dagster/row_count": len(frame),
        "date_range": date_range(frame),
        "source_file": file.key,
        "layout": parsed.layout,
        "robberies": int(frame.loc[robbery, "count"].sum()),
        "robberies_without_comuna": int(frame.loc[robbery & frame["comuna"].isna(), "count"].sum()),
        "crime_types": dg.MetadataValue.json(frame["crime_type"].value_counts().astype(int).to_dict()),
        "file_unusable_rows": parsed.bad_rows,
        "file_unusable_examples": "; ".join(map(str, parsed.bad_samples[:5])) or "none",
        # Read back by refused_crime_months: nothing is built on a month that failed.
        "schema_passed": problem is None,
        **({"schema_problem": problem} if problem is not None else {}),
        "null_rates": null_rates(frame),
        "preview": markdown_table(frame),
    }


def refused_crime_months(instance: dg.DagsterInstance, months: Iterable[str]) -> dict[str, str]:
    """Months whose latest raw_crime failed its schema check (e.g. a file over the bad-row limit), with
    the problem. raw_crime is stored even then (a blocking check stops what follows in the same run
    only): these months must not feed daily_features until a corrected crime file replaces them."""
    wanted = sorted(set(months))
    latest: dict[str, dg.AssetMaterialization] = {}
    cursor = None
    while wanted and len(latest) < len(wanted):
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_crime"), asset_partitions=wanted),
            limit=1000,
            cursor=cursor,
        )
        for record in result.records:  # newest first
            materialization = record.asset_materialization
            if materialization is not None and materialization.partition:
                latest.setdefault(materialization.partition, materialization)
        if not result.has_more:
            break
        cursor = result.cursor
    refused = {}
    for month, materialization in latest.items():
        passed = materialization.metadata.get("schema_passed")
        if passed is not None and passed.value is False:
            problem = materialization.metadata.get("schema_problem")
            refused[month] = str(problem.value) if problem is not None else "raw_crime failed its check"
    return refused


def _weather_series(landing: LandingZone) -> tuple[list[SourceSeries], dict[str, list[str]]]:
    """All weather series, most recently landed file first, and the files behind each source."""
    series: list[SourceSeries] = []
    files_of: dict[str, list[str]] = defaultdict(list)
    for file in newest_first(f for f in landing.files() if f.kind == WEATHER):
        try:
            parsed = parse_weather(landing.open(file))
        except LandingFileError as error:
            raise _landing_failure(error) from error
        for item in parsed.series:
            series.append(item)
            files_of[item.source].append(file.key)
    return series, files_of


@monthly_table(
    raw_weather_schema(),
    "One row per day of the month, values within physical bounds.",
    deps=[LANDING_WEATHER],
)
def raw_weather(
    context: dg.AssetExecutionContext, landing: LandingZone, ingest_policy: IngestPolicy
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """One row per day of the month; each value from the highest-priority source that has it."""
    partitions = list(context.partition_keys)
    series, files_of = _weather_series(landing)
    tables, combined = weather_partitions(series, partitions, ingest_policy.weather_priority)
    month_of_day = combined.frame["date"].dt.to_period("M").astype(str)
    for month, frame in tables.frames.items():
        filled_by = combined.filled_by(month_of_day == month)
        used = sorted({source for filled in filled_by.values() for source in filled})
        context.add_asset_metadata(
            {
                "dagster/row_count": len(frame),
                "date_range": date_range(frame),
                "filled_by": dg.MetadataValue.json(filled_by),
                "source_files": dg.MetadataValue.json({source: files_of[source] for source in used}),
                "days_without_any_weather": int(frame[list(WEATHER_FIELDS)].isna().all(axis=1).sum()),
                "null_rates": null_rates(frame),
                "preview": markdown_table(frame),
            },
            partition_key=month,
        )
    yield dg.Output(tables.frames)
    yield schema_result(tables.problems, partitions)


@monthly_table(
    daily_features_schema(),
    "Complete date x comuna grid, target >= 0, valid calendar.",
)
def daily_features(
    context: dg.AssetExecutionContext,
    raw_crime: dict[str, pd.DataFrame],
    raw_weather: dict[str, pd.DataFrame],
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The month's (date x comuna 1..15) grid: `robberies`, the day's weather and its calendar."""
    partitions = list(context.partition_keys)
    refused = refused_crime_months(context.instance, partitions)
    if refused:  # e.g. a weather-only run over a month whose crime file was refused
        raise dg.Failure(
            description=f"raw_crime of {', '.join(sorted(refused))} failed its schema check; daily_features "
            "is not built from it. Replace the crime file: its months are rebuilt when it lands. "
            + "; ".join(f"{month}: {problem.splitlines()[0]}" for month, problem in sorted(refused.items())),
            metadata={"refused_months": sorted(refused)},
        )
    tables = feature_partitions(raw_crime, raw_weather, partitions)
    for month, frame in tables.frames.items():
        context.add_asset_metadata(
            {
                "dagster/row_count": len(frame),
                "date_range": date_range(frame),
                "days": frame["date"].nunique(),
                "days_in_month": len(month_days(month)),
                "robberies": int(frame[TARGET].sum()),
                "robberies_per_comuna_day": round(float(frame[TARGET].mean()), 3) if len(frame) else 0.0,
                "days_with_temperature": int(frame.drop_duplicates("date")["temp_mean"].notna().sum()),
                "null_rates": null_rates(frame),
                "preview": markdown_table(frame),
            },
            partition_key=month,
        )
    yield dg.Output(tables.frames)
    yield schema_result(tables.problems, partitions)
