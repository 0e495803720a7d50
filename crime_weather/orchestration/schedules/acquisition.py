"""acquisition_schedule: new official files (or mirror files) brought into the landing zone daily."""

import dagster as dg

from crime_weather.orchestration.jobs import acquisition


def build_acquisition_schedule(cron: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="acquisition_schedule",
        job=acquisition,
        cron_schedule=cron,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Looks for new files at CRIME_WEATHER_SOURCE (the launcher also does on start).",
    )
