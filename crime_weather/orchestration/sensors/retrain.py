"""retrain_on_new_features: the sensor that evaluates the retrain chain's automation conditions.

The conditions live on the assets themselves (orchestration/conditions.py); this sensor only says
which assets it watches (the retrain chain, as asset definitions) and how its runs are tagged, so the
run queue lets one retrain run at a time.
"""

import dagster as dg

from crime_weather.orchestration.jobs import RETRAIN_CHAIN, STAGE_TAG, TRAIN_STAGE


def build_retrain_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "retrain_on_new_features",
        target=dg.AssetSelection.assets(*RETRAIN_CHAIN),
        run_tags={STAGE_TAG: TRAIN_STAGE},
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        description="Retrains and promotes once per burst of new or changed daily_features partitions.",
    )
