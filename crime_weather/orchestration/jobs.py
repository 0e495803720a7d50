"""Jobs the sensors and schedules launch."""

import dagster as dg

from crime_weather.orchestration.assets.effects import weather_effects
from crime_weather.orchestration.assets.forecast import robbery_forecast
from crime_weather.orchestration.assets.ingest import daily_features, raw_crime, raw_weather
from crime_weather.orchestration.assets.model import challenger_model, champion_model, train_test_split
from crime_weather.orchestration.assets.outlook import champion_outlook
from crime_weather.orchestration.resources import AcquisitionSource, LandingZone
from crime_weather.sources.catalog import REJECTED, describe

STAGE_TAG = "crime_weather/stage"
FILE_TAG = "crime_weather/file"
# dagster.yaml's run queue lets one run with this stage tag run at a time (docker/dagster.yaml too).
TRAIN_STAGE = "train"

# What a retrain materializes, in order: the automation (sensors/retrain.py) and `make retrain` both.
RETRAIN_CHAIN = (train_test_split, challenger_model, champion_model, weather_effects)

# In-process: Dagster's multiprocess executor costs 1.5-3 s per step, more than a month's work.
ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(raw_crime, raw_weather, daily_features),
    executor_def=dg.in_process_executor,
    tags={STAGE_TAG: "ingest"},
    description="Parse, validate and featurize the months a landing-zone change affects.",
)

# `make retrain` submits it to the instance: through the run queue (one retrain at a time) and run
# monitoring, like the automation's retrains.
retrain_job = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.assets(*RETRAIN_CHAIN),
    executor_def=dg.in_process_executor,
    tags={STAGE_TAG: TRAIN_STAGE},
    description="Split, challenger, champion (gated) and weather effects now, on every month present.",
)

# One issue date per run; launched daily, after a promotion and when a forecast file lands.
forecast_job = dg.define_asset_job(
    "forecast",
    selection=dg.AssetSelection.assets(robbery_forecast),
    executor_def=dg.in_process_executor,
    tags={STAGE_TAG: "forecast"},
    description="Issue the robbery forecast of the coming days for one issue date.",
)

# One champion version per run (a partition of champion_versions), launched at each promotion.
outlook_job = dg.define_asset_job(
    "outlook",
    selection=dg.AssetSelection.assets(champion_outlook),
    executor_def=dg.in_process_executor,
    tags={STAGE_TAG: "outlook"},
    description="Store one champion version's six-month outlook (its claims, to be graded).",
)


class LandingFileConfig(dg.Config):
    key: str


@dg.op(description="Re-read one landing file; fail naming the file and the problem if it cannot be ingested.")
def inspect_landing_file(
    context: dg.OpExecutionContext, config: LandingFileConfig, landing: LandingZone
) -> None:
    info = next((item for item in landing.store.list() if item.key == config.key), None)
    if info is None:
        context.log.info(f"{config.key} is no longer in the landing zone {landing.uri}.")
        return
    file = describe(info, landing.store.read(info.key))
    if file.kind == REJECTED:
        context.log.error(file.detail)
        raise dg.Failure(
            description=file.detail,
            metadata={
                "file": config.key,
                "landing_zone": landing.uri,
                "action": "fix or replace the file; it stays in place",
            },
        )
    context.log.info(f"{config.key} is readable now: {file.kind}, months {', '.join(file.months) or 'none'}.")


@dg.job(tags={STAGE_TAG: "landing"}, description="Reports a landing file that cannot be ingested.")
def landing_file_rejected() -> None:
    inspect_landing_file()


@dg.op(description="Fetch files the source has and the landing zone lacks (CRIME_WEATHER_SOURCE).")
def acquire_new_files(
    context: dg.OpExecutionContext, landing: LandingZone, acquisition_source: AcquisitionSource
) -> None:
    from crime_weather.sources.acquisition import acquire, source_files

    report = acquire(source_files(acquisition_source), landing.store)
    context.log.info(f"acquisition from {acquisition_source.source}: {report.summary()}")
    if report.failed and not report.fetched and not report.already_present:
        raise dg.Failure(f"Nothing could be fetched from {acquisition_source.source}: {report.summary()}")


@dg.job(
    tags={STAGE_TAG: "acquisition"}, description="Bring new official files (or mirror files) into landing."
)
def acquisition() -> None:
    acquire_new_files()
