"""The retrain automation, in one place: when the model assets run, and the sensor that runs them.

Declarative automation rather than a hand-written sensor: Dagster already knows which
daily_features partitions changed, which runs are in progress and which checks failed. The
conditions are attached here (`automate`), so the model assets themselves say what they compute,
not when.
"""

from collections.abc import Sequence

import dagster as dg

from crime_weather.orchestration.jobs import STAGE_TAG

AC = dg.AutomationCondition

# The split starts a retrain: once per burst of new features (since_last_handled), when no ingest is
# running or queued and no month is missing, never on data whose blocking checks failed.
RETRAIN_ON_NEW_FEATURES = (
    AC.any_deps_updated().since_last_handled()
    & ~AC.any_deps_missing()
    & ~AC.any_deps_in_progress()
    & ~AC.in_progress()
    & ~AC.any_deps_match(AC.any_checks_match(AC.check_failed(), blocking_only=True))
).with_label("retrain on new features")

# Everything downstream of the split follows it in the same run.
FOLLOW_UPSTREAM = (
    AC.any_deps_updated().since_last_handled() & ~AC.any_deps_in_progress() & ~AC.in_progress()
).with_label("follow upstream")

# weather_effects reads daily_features but runs after champion_model, to log beside the champion: it
# joins each retrain the sensor requests (in the same run), never a run of its own, so the retrain's
# guards (no missing month, no failed check) are its guards. `make retrain` selects it as well.
AFTER_RETRAIN = (
    AC.any_deps_match(AC.will_be_requested()).ignore(dg.AssetSelection.assets("daily_features"))
    & ~AC.in_progress()
).with_label("with each retrain")

RETRAIN_START = "train_test_split"
RETRAIN_FOLLOWERS = ("challenger_model", "champion_model")
AFTER_CHAMPION = ("weather_effects",)
RETRAINED = (RETRAIN_START, *RETRAIN_FOLLOWERS, *AFTER_CHAMPION)


def _condition(spec: dg.AssetSpec) -> dg.AssetSpec:
    name = spec.key.to_user_string()
    if name == RETRAIN_START:
        return spec.replace_attributes(automation_condition=RETRAIN_ON_NEW_FEATURES)
    if name in RETRAIN_FOLLOWERS:
        return spec.replace_attributes(automation_condition=FOLLOW_UPSTREAM)
    if name in AFTER_CHAMPION:
        return spec.replace_attributes(automation_condition=AFTER_RETRAIN)
    return spec


def automate(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The model assets with their retrain conditions; other assets unchanged."""
    return list(dg.map_asset_specs(_condition, assets))


def build_retrain_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "retrain_on_new_features",
        target=dg.AssetSelection.assets(*RETRAINED),
        run_tags={STAGE_TAG: "train"},
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        description="Retrains and promotes once per burst of new or changed daily_features partitions.",
    )
