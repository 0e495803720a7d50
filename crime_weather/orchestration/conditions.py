"""When the retrain chain runs: the declarative automation conditions its assets carry.

Declarative automation rather than a hand-written sensor: Dagster already knows which daily_features
partitions changed, which runs are in progress and which checks failed. Each asset of the chain names
its condition in its own decorator (`automation_condition=`); the sensor that evaluates them is
sensors/retrain.py.
"""

import dagster as dg

from crime_weather.orchestration.assets.ingest import daily_features

AC = dg.AutomationCondition

# train_test_split starts a retrain: once per burst of new features (since_last_handled), when no
# ingest is running or queued and no month is missing, never on data whose blocking checks failed.
RETRAIN_ON_NEW_FEATURES = (
    AC.any_deps_updated().since_last_handled()
    & ~AC.any_deps_missing()
    & ~AC.any_deps_in_progress()
    & ~AC.in_progress()
    & ~AC.any_deps_match(AC.any_checks_match(AC.check_failed(), blocking_only=True))
).with_label("retrain on new features")

# challenger_model and champion_model follow the split in the same run.
FOLLOW_UPSTREAM = (
    AC.any_deps_updated().since_last_handled() & ~AC.any_deps_in_progress() & ~AC.in_progress()
).with_label("follow upstream")

# weather_effects reads daily_features but runs after champion_model, to log beside the champion: it
# joins each retrain the sensor requests (in the same run), never a run of its own, so the retrain's
# guards (no missing month, no failed check) are its guards. The retrain job selects it as well.
AFTER_RETRAIN = (
    AC.any_deps_match(AC.will_be_requested()).ignore(dg.AssetSelection.assets(daily_features))
    & ~AC.in_progress()
).with_label("with each retrain")
