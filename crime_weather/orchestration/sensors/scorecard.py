"""The sensor that runs forecast_scorecard's automation condition (assets/scorecard.py): a month is
scored again whenever its daily_features lands or changes. Its own AutomationConditionSensorDefinition,
the mechanism the retrain uses (sensors/retrain.py), so neither's target depends on the other's.

The asset runs many months at once (BackfillPolicy.single_run): the months a tick finds new or
changed, a first load of 50 months included, are scored by one run, not one run each."""

import dagster as dg

from crime_weather.core.names import SCORECARD_TABLE
from crime_weather.orchestration.jobs import STAGE_TAG


def build_scorecard_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "score_on_new_features",
        target=dg.AssetSelection.assets(SCORECARD_TABLE),
        run_tags={STAGE_TAG: "score"},
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        description="Grades the stored outlooks and forecasts of every month whose daily_features landed or changed.",
    )
