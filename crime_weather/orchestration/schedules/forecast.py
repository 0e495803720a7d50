"""daily_forecast: the forecast of the coming days, issued every morning (city time)."""

import dagster as dg

from crime_weather.orchestration.jobs import forecast_job
from crime_weather.orchestration.resources import ForecastSource, LandingZone
from crime_weather.orchestration.sensors.forecast import TRIGGER_TAG, why_not_issued
from crime_weather.sources.forecast import city_day
from crime_weather.sources.official import CITY_TIMEZONE


def build_daily_schedule(cron: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_forecast",
        cron_schedule=cron,
        job=forecast_job,
        execution_timezone=CITY_TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Issues the forecast of the coming days every morning (CRIME_WEATHER_FORECAST_CRON, city time).",
    )
    def daily_forecast(
        context: dg.ScheduleEvaluationContext, landing: LandingZone, forecast_source: ForecastSource
    ) -> dg.RunRequest | dg.SkipReason:
        issue = city_day(context.scheduled_execution_time.timestamp())
        if blocked := why_not_issued(landing, forecast_source, issue):
            return dg.SkipReason(f"{blocked.reason}.")
        return dg.RunRequest(
            run_key=f"{issue}:daily",
            job_name=forecast_job.name,
            partition_key=issue.isoformat(),
            tags={TRIGGER_TAG: "daily"},
        )

    return daily_forecast
