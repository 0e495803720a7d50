"""forecast_on_promotion: the forecast is issued again after every promotion. The other triggers:
every morning (schedules/forecast.py, `daily_forecast`) and a forecast file landing (sensors/landing.py);
all three skip when there is no weather to forecast from (`why_not_issued`).

The promotion sensor watches the registry's `champion` alias itself rather than champion_model's
materializations: a promotion is the alias moving, whoever moved it (the retrain, `make retrain`, a
person in MLflow's UI), and the first champion ever counts too.
"""

import datetime as dt
import time
from dataclasses import dataclass

import dagster as dg

from crime_weather.orchestration.jobs import forecast_job
from crime_weather.orchestration.resources import ForecastSource, LandingZone, MlflowTracking
from crime_weather.orchestration.sensors.champion import new_champion
from crime_weather.sources.catalog import FORECAST
from crime_weather.sources.forecast import NO_SOURCE, city_day

TRIGGER_TAG = "crime_weather/forecast_trigger"


@dataclass(frozen=True)
class NotIssued:
    """Why a forecast run would surely fail now, and whether asking again later may help."""

    reason: str
    transient: bool


def why_not_issued(landing: LandingZone, source: ForecastSource, issue: dt.date) -> NotIssued | None:
    """None when a run for `issue` has weather to forecast from: a forecast file landed that day, a
    file or folder source (a missing one is a configuration error the run reports), or an API that
    answers. Otherwise why not: the source `none` (until a file lands), or an API that does not
    answer now (an offline machine skips the tick with the reason instead of failing a run)."""
    if any(file.kind == FORECAST for file in landing.files_landed_on(issue)):
        return None
    no_file = f"no forecast file landed in {landing.uri} on {issue}"
    if source.forecast_source in ("", NO_SOURCE):
        return NotIssued(
            f"CRIME_WEATHER_FORECAST_SOURCE is none and {no_file}: nothing to forecast from", False
        )
    if problem := source.unreachable():
        return NotIssued(f"the forecast API {source.name} does not answer ({problem}) and {no_file}", True)
    return None


def build_promotion_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="forecast_on_promotion",
        job=forecast_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Issues today's forecast again with the new champion whenever the champion alias moves.",
    )
    def forecast_on_promotion(
        context: dg.SensorEvaluationContext,
        mlflow_tracking: MlflowTracking,
        landing: LandingZone,
        forecast_source: ForecastSource,
    ) -> dg.SensorResult | dg.SkipReason:
        version = new_champion(context.cursor, mlflow_tracking)
        if isinstance(version, dg.SkipReason):
            return version
        issue = city_day(time.time())
        if blocked := why_not_issued(landing, forecast_source, issue):
            if blocked.transient:  # the cursor stays: issued with this champion once the API answers
                return dg.SkipReason(f"Champion v{version}: {blocked.reason}; asking again next tick.")
            return dg.SensorResult(skip_reason=f"Champion v{version}: {blocked.reason}.", cursor=version)
        context.log.info(f"Champion is now v{version}: issuing the forecast of {issue} with it.")
        request = dg.RunRequest(
            run_key=f"{issue}:champion-v{version}",
            job_name=forecast_job.name,
            partition_key=issue.isoformat(),
            tags={TRIGGER_TAG: f"promotion of v{version}"},
        )
        return dg.SensorResult(run_requests=[request], cursor=version)

    return forecast_on_promotion
