"""The sensor that runs forecast_scorecard's automation condition (assets/scorecard.py): a month is
scored again whenever its daily_features lands or changes. Its own AutomationConditionSensorDefinition,
the mechanism the retrain uses (sensors/retrain.py), so neither's target depends on the other's.

Off by default for now: its condition asks for one run per month, so a first load of 50 months would
start 50 runs (50 containers in compose) before anything else settles. Turn it on in the UI
(Automation) once the history is in, or materialize a month's scorecard by hand."""

import dagster as dg

from crime_weather.core.names import SCORECARD_TABLE
from crime_weather.orchestration.jobs import STAGE_TAG


def build_scorecard_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "score_on_new_features",
        target=dg.AssetSelection.assets(SCORECARD_TABLE),
        run_tags={STAGE_TAG: "score"},
        default_status=dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=interval_seconds,
        description="Grades the stored outlooks and forecasts of every month whose daily_features landed or changed.",
    )
