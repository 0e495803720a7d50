"""The crime_weather code location: assets, checks, sensors and resources, configured by environment."""

import dagster as dg

from crime_weather.assets.ingest import LANDING_CRIME, LANDING_WEATHER, daily_features, raw_crime, raw_weather
from crime_weather.jobs import acquisition, ingest_job, landing_file_rejected
from crime_weather.resources import IngestPolicy, LandingZone, WarehouseIOManager
from crime_weather.sensors.landing import landing_sensor
from crime_weather.settings import Settings, get_settings


def build_resources(settings: Settings) -> dict[str, object]:
    return {
        "warehouse": WarehouseIOManager(uri=settings.warehouse, s3_endpoint_url=settings.s3_endpoint_url),
        "landing": LandingZone(uri=settings.landing, s3_endpoint_url=settings.s3_endpoint_url),
        "ingest_policy": IngestPolicy(
            weather_priority=list(settings.weather_priority), max_bad_row_share=settings.max_bad_row_share
        ),
    }


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or get_settings()
    return dg.Definitions(
        assets=[LANDING_CRIME, LANDING_WEATHER, raw_crime, raw_weather, daily_features],
        jobs=[ingest_job, landing_file_rejected, acquisition],
        sensors=[landing_sensor],
        schedules=[
            dg.ScheduleDefinition(
                name="acquisition_schedule",
                job=acquisition,
                cron_schedule=settings.acquisition_cron,
                default_status=dg.DefaultScheduleStatus.RUNNING,
                description="Looks for new files at CRIME_WEATHER_SOURCE (the launcher also does on start).",
            )
        ],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
