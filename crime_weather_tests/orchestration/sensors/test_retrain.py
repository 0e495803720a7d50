"""The retrain automation: once per burst of new daily_features, never on missing or failed data."""

import dagster as dg
import pytest

from crime_weather.definitions import build_definitions
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import evaluate_landing_sensor, execute

MODEL = ("train_test_split", "challenger_model", "champion_model")


@pytest.fixture
def instance(home):
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


class Automation:
    """Successive ticks of the retrain sensor's conditions, keeping its cursor like the daemon."""

    def __init__(self, instance: dg.DagsterInstance, assets: tuple[str, ...] = MODEL) -> None:
        self.instance, self.cursor, self.assets = instance, None, assets
        self.defs = build_definitions()

    def tick(self) -> dict[str, int]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs,
            instance=self.instance,
            asset_selection=dg.AssetSelection.assets(*self.assets),
            cursor=self.cursor,
        )
        self.cursor = result.cursor
        return {asset: result.get_num_requested(dg.AssetKey(asset)) for asset in self.assets}


RETRAIN = dict.fromkeys(MODEL, 1)
NOTHING = dict.fromkeys(MODEL, 0)


def test_new_partitions_trigger_one_retrain_and_an_unchanged_tick_none(instance, landing):
    automation = Automation(instance)
    assert automation.tick() == NOTHING  # no data, no training
    (landing / "delitos.csv").write_bytes(builders.to_csv(builders.release_current()))
    sensor = evaluate_landing_sensor(instance)
    assert automation.tick() == NOTHING  # the month exists but is not ingested yet
    assert all(execute(instance, request).success for request in sensor.run_requests)
    assert automation.tick() == RETRAIN  # split, challenger and champion in one request
    assert automation.tick() == NOTHING  # unchanged: nothing new

    frame = builders.release_current()
    frame["fecha"] = ["2019-04-01", "2019-04-02", "2019-04-03", "2019-04-30"]
    (landing / "abril.csv").write_bytes(builders.to_csv(frame))
    for request in evaluate_landing_sensor(instance, sensor.cursor).run_requests:
        assert execute(instance, request).success
    assert automation.tick() == RETRAIN


def test_a_failed_check_blocks_retraining_until_fixed(instance):
    instance.add_dynamic_partitions("months", ["2019-03"])
    automation = Automation(instance)
    automation.tick()
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=dg.AssetKey("daily_features"), check_name="schema", passed=False)
    )
    instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition="2019-03"))
    assert automation.tick() == NOTHING
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=dg.AssetKey("daily_features"), check_name="schema", passed=True)
    )
    assert automation.tick() == RETRAIN  # the update that waited is handled once the data is good


def test_a_missing_month_blocks_retraining(instance):
    instance.add_dynamic_partitions("months", ["2019-03", "2019-04"])
    automation = Automation(instance)
    instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition="2019-03"))
    assert automation.tick() == NOTHING  # 2019-04 has no features yet: wait for the whole burst
    instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition="2019-04"))
    assert automation.tick() == RETRAIN


def test_weather_effects_follow_each_retrain_and_not_each_partition(instance):
    instance.add_dynamic_partitions("months", ["2019-03"])
    automation = Automation(instance, (*MODEL, "weather_effects"))
    automation.tick()
    instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition="2019-03"))
    assert automation.tick() == {**RETRAIN, "weather_effects": 1}  # one request: after the champion
    for asset in (*MODEL, "weather_effects"):  # what that run materializes, in order
        instance.report_runless_asset_event(dg.AssetMaterialization(asset))
    assert automation.tick() == {**NOTHING, "weather_effects": 0}

    # New features whose check failed: no retrain, and no effects on them either.
    instance.report_runless_asset_event(
        dg.AssetCheckEvaluation(asset_key=dg.AssetKey("daily_features"), check_name="schema", passed=False)
    )
    instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition="2019-03"))
    assert automation.tick() == {**NOTHING, "weather_effects": 0}

    # A champion materialized alone (a click in the UI) is no retrain: no run of its own for the effects
    # (`make retrain` selects weather_effects with the model assets).
    instance.report_runless_asset_event(dg.AssetMaterialization("champion_model"))
    assert automation.tick() == {**NOTHING, "weather_effects": 0}


def test_every_asset_of_the_retrain_chain_carries_its_condition_and_is_selected_by_key(instance):
    # `instance` open, as the daemon's is: loading Definitions reads its state storage.
    from crime_weather.orchestration.assets.effects import weather_effects
    from crime_weather.orchestration.assets.ingest import daily_features
    from crime_weather.orchestration.assets.model import challenger_model, champion_model, train_test_split
    from crime_weather.orchestration.conditions import AFTER_RETRAIN, FOLLOW_UPSTREAM, RETRAIN_ON_NEW_FEATURES
    from crime_weather.orchestration.jobs import RETRAIN_CHAIN

    expected = {
        train_test_split.key: RETRAIN_ON_NEW_FEATURES,
        challenger_model.key: FOLLOW_UPSTREAM,
        champion_model.key: FOLLOW_UPSTREAM,
        weather_effects.key: AFTER_RETRAIN,
    }
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    chain = {asset.key for asset in RETRAIN_CHAIN}
    assert chain == set(expected)
    for key, condition in expected.items():  # as served by the code location, not as imported
        assert defs.resolve_assets_def(key).automation_conditions_by_key[key] == condition
    assert daily_features.key in graph.get(train_test_split.key).parent_keys  # what starts the chain
    sensor = defs.resolve_sensor_def("retrain_on_new_features")
    assert sensor.asset_selection.resolve(graph) == chain
    assert defs.resolve_job_def("retrain").asset_layer.selected_asset_keys == chain

    # Every selection is made of keys: one that names an asset no longer there raises, never silently
    # selects nothing (what matching by name did).
    with pytest.raises(dg.DagsterInvalidSubsetError):
        dg.AssetSelection.assets(dg.AssetKey("champion_model_renamed")).resolve(graph)


def test_the_automation_modules_name_no_asset_in_a_string(instance):
    """A renamed asset must break an import, not a string nobody updates."""
    import ast
    from pathlib import Path

    import crime_weather

    package = Path(crime_weather.__file__).parent
    modules = [
        package / "tables" / "landing_plan.py",
        package / "orchestration" / "conditions.py",
        package / "orchestration" / "jobs.py",
        *sorted((package / "orchestration" / "sensors").glob("*.py")),
        *sorted((package / "orchestration" / "schedules").glob("*.py")),
    ]
    names = {key.to_user_string() for key in build_definitions().resolve_asset_graph().get_all_asset_keys()}
    found = {
        (module.name, node.value)
        for module in modules
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    }
    assert len(modules) > 8 and not found
