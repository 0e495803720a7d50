"""landing_sensor: new or changed files in the landing zone become partitions and ingest runs; a new
forecast file issues a forecast."""

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict

import dagster as dg

from crime_weather.orchestration.assets.boundaries import boundaries_job
from crime_weather.orchestration.assets.forecast import LANDING_FORECAST
from crime_weather.orchestration.assets.ingest import (
    LANDING_CRIME,
    LANDING_WEATHER,
    daily_features,
    raw_crime,
    raw_weather,
    refused_crime_months,
)
from crime_weather.orchestration.jobs import FILE_TAG, forecast_job, ingest_job, landing_file_rejected
from crime_weather.orchestration.metadata import markdown_table
from crime_weather.orchestration.partitions import issue_dates, months
from crime_weather.orchestration.resources import LandingZone
from crime_weather.orchestration.sensors.forecast import TRIGGER_TAG
from crime_weather.sources.catalog import BOUNDARIES, CRIME, FORECAST, WEATHER, LandingFile, newest_first
from crime_weather.sources.forecast import city_day
from crime_weather.tables.landing_plan import IngestPlan, PlannedRun, contiguous_segments, plan_ingest

# Dagster's tags for a run over a key range of a partitioned asset (single-run backfills use them).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# What a planned run rebuilds: a crime change rebuilds the months' crime, weather and features (the
# weather of a new month is read then); a weather change their weather and features.
INGESTED: dict[str, tuple[dg.AssetsDefinition, ...]] = {
    CRIME: (raw_crime, raw_weather, daily_features),
    WEATHER: (raw_weather, daily_features),
}


def ingested_keys(run: PlannedRun) -> list[dg.AssetKey]:
    return [asset.key for asset in INGESTED[run.rebuilds]]


def encode_cursor(files: list[LandingFile]) -> str:
    """The sensor cursor: every file it has seen, with its version, kind and months."""
    return json.dumps(
        {"files": [asdict(file) for file in sorted(files, key=lambda f: f.key)]}, separators=(",", ":")
    )


def decode_cursor(cursor: str | None) -> list[LandingFile]:
    if not cursor:
        return []
    return [
        LandingFile(**{**entry, "months": tuple(entry["months"])})
        for entry in json.loads(cursor).get("files", [])
    ]


def _inventory(files: list[LandingFile], kind: str) -> dg.AssetMaterialization:
    import pandas as pd

    rows = [
        {
            "file": file.key,
            "layout": file.layout or "",
            "months": f"{file.months[0]} .. {file.months[-1]} ({len(file.months)})" if file.months else "",
            **({"days": file.detail} if kind == FORECAST else {}),
            "landed": dt.datetime.fromtimestamp(file.landed_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        for file in files
        if file.kind == kind
    ]
    asset = {CRIME: LANDING_CRIME, WEATHER: LANDING_WEATHER, FORECAST: LANDING_FORECAST}[kind].key
    return dg.AssetMaterialization(
        asset_key=asset,
        metadata={"files": len(rows), "inventory": markdown_table(pd.DataFrame(rows), rows=100)},
    )


def _plan(
    context: dg.SensorEvaluationContext, previous: list[LandingFile], current: list[LandingFile]
) -> tuple[IngestPlan, list[str]]:
    """The plan, with weather runs kept off months whose crime data was refused, and the known months."""
    known = list(context.instance.get_dynamic_partitions(months.name))
    plan = plan_ingest(previous, current, known)
    weather_months = {month for run in plan.runs if run.rebuilds == WEATHER for month in run.months}
    refused = refused_crime_months(context.instance, weather_months) if weather_months else {}
    if refused:
        plan = plan_ingest(previous, current, known, refused_months=refused)
        for month, problem in sorted(refused.items()):
            context.log.warning(
                f"Weather for {month} waits: its crime data was refused ({problem.splitlines()[0]}). "
                "The month is rebuilt, weather included, when a corrected crime file lands."
            )
    return plan, known


def _report(context: dg.SensorEvaluationContext, plan: IngestPlan) -> None:
    for file in plan.skipped:
        context.log.info(f"Skipped {file.key}: {file.detail}")
    for file in plan.rejected:
        context.log.error(f"Rejected {file.key} (left in place): {file.detail}")
    for key in plan.removed:
        context.log.warning(f"{key} left the landing zone; its months keep their last materialization.")


def _ingest_requests(
    context: dg.SensorEvaluationContext, plan: IngestPlan, order: list[str]
) -> list[dg.RunRequest]:
    """One run per planned run and contiguous key range (a range run covers every key in between)."""
    requests = []
    for planned in plan.runs:
        segments = contiguous_segments(order, planned.months)
        for index, (first, last) in enumerate(segments):
            suffix = f"#{index}" if len(segments) > 1 else ""
            context.log.info(f"Ingest {first}..{last}: {planned.reason}")
            requests.append(
                dg.RunRequest(
                    run_key=planned.run_key + suffix,
                    job_name=ingest_job.name,
                    asset_selection=ingested_keys(planned),
                    tags={RANGE_START_TAG: first, RANGE_END_TAG: last, FILE_TAG: planned.run_key[:200]},
                )
            )
    return requests


def _rejection_requests(plan: IngestPlan) -> list[dg.RunRequest]:
    """A failing run per unreadable file: the UI shows the file and the problem."""
    return [
        dg.RunRequest(
            run_key=f"rejected:{file.run_key}",
            job_name=landing_file_rejected.name,
            run_config={"ops": {"inspect_landing_file": {"config": {"key": file.key}}}},
            tags={FILE_TAG: file.key[:200]},
        )
        for file in plan.rejected
    ]


def _forecast_requests(context: dg.SensorEvaluationContext, plan: IngestPlan) -> list[dg.RunRequest]:
    """A new or changed forecast file issues the forecast of the day it landed (today, as a rule)."""
    requests = []
    for file in plan.forecasts:
        issue = city_day(file.landed_at).isoformat()
        if not issue_dates.has_partition_key(issue):
            context.log.warning(f"{file.key} ({file.detail}): no forecast partition for {issue}; not issued.")
            continue
        context.log.info(f"Forecast file {file.key} ({file.detail}): issuing the forecast of {issue}.")
        requests.append(
            dg.RunRequest(
                run_key=f"forecast:{file.run_key}",
                job_name=forecast_job.name,
                partition_key=issue,
                tags={FILE_TAG: file.key[:200], TRIGGER_TAG: "forecast file"},
            )
        )
    return requests


def _boundaries_requests(previous: list[LandingFile], current: list[LandingFile]) -> list[dg.RunRequest]:
    """A new or changed comunas file: one comuna_boundaries run (it reads the newest such file). A file
    the cursor holds under another kind counts too: a comunas file that landed before boundaries
    were recognised was seen as rejected."""
    seen = {(file.key, file.version) for file in previous if file.kind == BOUNDARIES}
    changed = newest_first(f for f in current if f.kind == BOUNDARIES and (f.key, f.version) not in seen)
    return [
        dg.RunRequest(
            run_key=f"boundaries:{file.run_key}",
            job_name=boundaries_job.name,
            tags={FILE_TAG: file.key[:200]},
        )
        for file in changed[:1]
    ]


def evaluate_landing(
    context: dg.SensorEvaluationContext, landing: LandingZone
) -> dg.SensorResult | dg.SkipReason:
    """One look at the landing zone: what changed since the cursor, as partitions and run requests."""
    previous, current = decode_cursor(context.cursor), landing.files()
    plan, known = _plan(context, previous, current)
    boundaries = _boundaries_requests(previous, current)
    if plan.is_empty and not boundaries:
        counts = Counter(file.kind for file in current)
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no files"
        return dg.SkipReason(f"Landing zone {landing.uri} unchanged ({summary}).")
    _report(context, plan)
    changed_kinds = {file.kind for file in plan.changed} | {f.kind for f in previous if f.key in plan.removed}
    return dg.SensorResult(
        run_requests=_ingest_requests(context, plan, known + plan.new_months)
        + _rejection_requests(plan)
        + _forecast_requests(context, plan)
        + boundaries,
        dynamic_partitions_requests=[months.build_add_request(plan.new_months)] if plan.new_months else [],
        asset_events=[
            _inventory(current, kind) for kind in (CRIME, WEATHER, FORECAST) if kind in changed_kinds
        ],
        cursor=encode_cursor(current),
    )


def build_landing_sensor(interval_seconds: int = 15) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        jobs=[ingest_job, landing_file_rejected, forecast_job, boundaries_job],
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Watches the landing zone: new months become partitions, changed files become ingest runs.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, landing: LandingZone
    ) -> dg.SensorResult | dg.SkipReason:
        return evaluate_landing(context, landing)

    return landing_sensor
