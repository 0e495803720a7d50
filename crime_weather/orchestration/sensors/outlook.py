"""At each promotion, the new champion's outlook: `outlook_on_promotion` watches the `champion` alias
(as forecast_on_promotion does, whoever moved it), adds the version to `champion_versions` and runs
champion_outlook for it. The cursor is the last version handled, so each champion is claimed once.
"""

import dagster as dg

from crime_weather.orchestration.jobs import outlook_job
from crime_weather.orchestration.partitions import champion_versions
from crime_weather.orchestration.resources import MlflowTracking
from crime_weather.orchestration.sensors.champion import new_champion

TRIGGER_TAG = "crime_weather/outlook_trigger"


def build_outlook_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="outlook_on_promotion",
        job=outlook_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Stores the new champion's six-month outlook whenever the champion alias moves.",
    )
    def outlook_on_promotion(
        context: dg.SensorEvaluationContext, mlflow_tracking: MlflowTracking
    ) -> dg.SensorResult | dg.SkipReason:
        version = new_champion(context.cursor, mlflow_tracking)
        if isinstance(version, dg.SkipReason):
            return version
        context.log.info(f"Champion is now v{version}: storing its outlook.")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"outlook-v{version}",
                    job_name=outlook_job.name,
                    partition_key=version,
                    tags={TRIGGER_TAG: f"promotion of v{version}"},
                )
            ],
            dynamic_partitions_requests=[champion_versions.build_add_request([version])],
            cursor=version,
        )

    return outlook_on_promotion
