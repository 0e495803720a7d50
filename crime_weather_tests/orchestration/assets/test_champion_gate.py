"""The champion's gate on a real Dagster instance and a real MLflow registry (sqlite): a version the
promotion rule chooses but that loses to the naive level is registered and recorded, never served.

The candidate is the weak configuration (no level, one boosting step: about the overall mean
everywhere), trained, backtested and registered the way the platform does; the comuna x weekday naive
level beats it on every fold.
"""

import dagster as dg
import pytest
from mlflow.tracking import MlflowClient

from crime_weather.modeling.registry.tracking import experiment_id, run
from crime_weather.modeling.registry.versions import CHALLENGER, CHAMPION, TAG_PROMOTED_AT, alias_version
from crime_weather.modeling.selection.split import temporal_split
from crime_weather.modeling.selection.train import Stages, TrainingBudget, TrainingData, train_configuration
from crime_weather_tests.dagster_helpers import checks, instance_in_home, materialize, seed_daily_features
from harness.models import model_config, register_model, synthetic_features

MONTHS = [f"2019-{m:02d}" for m in range(1, 9)]
NAME = "crime_weather"


def _train_weak_challenger(uri: str, frames) -> str:
    """The weak configuration on every month, evaluated and registered as challenger_model would."""
    client = MlflowClient(uri, uri)
    training = TrainingData.of(
        temporal_split(frames, 2),
        TrainingBudget(search_trials=1, search_timeout_seconds=10, search_folds=2, backtest_folds=3, seed=0),
    )
    with run(client, experiment_id(client, NAME), "weak challenger") as parent:
        trained = train_configuration(
            model_config(weak=True),
            training,
            parent,
            Stages(),
            registered_model=NAME,
            dagster_run_id="test",
            seed=0,
        )
    client.set_registered_model_alias(NAME, CHALLENGER, trained.version)
    return trained.version


@pytest.fixture(scope="module")
def gated(tmp_path_factory):
    """Champion v1: the weak configuration on the first 6 months. Challenger: the same configuration
    refreshed on all 8, which the rule serves ("refreshed") and the gate refuses."""
    home = tmp_path_factory.mktemp("home")
    budget = {"test_months": "2", "search_trials": "1", "search_folds": "2", "backtest_folds": "3"}
    with instance_in_home(home, **budget) as instance:
        frames = synthetic_features(MONTHS)
        seed_daily_features(instance, home / "warehouse", frames)
        uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
        previous = register_model(uri, weak=True, months=MONTHS[:6])
        candidate = _train_weak_challenger(uri, frames)
        result = materialize(instance, "train_test_split", "champion_model")
        yield instance, result, MlflowClient(uri, uri), previous, candidate


def _decision(instance: dg.DagsterInstance) -> dict[str, str]:
    event = instance.get_latest_materialization_event(dg.AssetKey("champion_model"))
    return {key: str(value.value) for key, value in event.asset_materialization.metadata.items()}


def test_a_candidate_that_loses_to_the_naive_level_is_not_served(gated):
    _, result, client, previous, candidate = gated
    metrics = client.get_run(client.get_model_version(NAME, candidate).run_id).data.metrics
    assert metrics["backtest_poisson_deviance"] > metrics["backtest_best_naive_poisson_deviance"]
    assert not result.success  # the blocking check fails the run: nothing downstream runs
    assert checks(result) == {"train_test_split": True, "champion_model": False}
    assert str(alias_version(client, NAME, CHAMPION).version) == previous  # the alias never moved


def test_the_blocked_candidate_is_registered_and_says_why(gated):
    instance, _, client, previous, candidate = gated
    tags = client.get_model_version(NAME, candidate).tags
    assert tags["promotion_decision"] == "blocked"
    assert tags["promotion_blocked_by"].startswith("beats_baseline: champion backtest deviance")
    assert TAG_PROMOTED_AT not in tags
    run_tags = client.get_run(client.get_model_version(NAME, candidate).run_id).data.tags
    assert run_tags["promotion_decision"] == "blocked"
    decision = _decision(instance)
    assert decision["decision"] == "blocked" and "refit on the new data" in decision["reason"]
    assert decision["gate"].startswith("blocked, not served: beats_baseline")
    assert (decision["chosen_version"], decision["champion_version"]) == (candidate, previous)
    assert decision["promoted_at"] == "not promoted"


def test_with_no_champion_yet_a_blocked_candidate_leaves_nothing_served(gated):
    instance, _, client, _, candidate = gated
    client.delete_registered_model_alias(NAME, CHAMPION)
    result = materialize(instance, "champion_model")
    assert not result.success and checks(result) == {"champion_model": False}
    assert alias_version(client, NAME, CHAMPION) is None
    decision = _decision(instance)
    assert "no champion yet" in decision["reason"] and decision["champion_version"] == "none"
    assert client.get_model_version(NAME, candidate).tags["promotion_decision"] == "blocked"


def test_every_blocking_check_on_the_champion_is_a_gate_decided_before_the_alias_moves():
    from crime_weather.orchestration.assets.model import champion_model
    from crime_weather.orchestration.checks import CHAMPION_GATES

    blocking = {spec.name for spec in champion_model.check_specs if spec.blocking}
    assert blocking == {gate.name for gate in CHAMPION_GATES} == {"beats_baseline"}
    assert {spec.name for spec in champion_model.check_specs} == blocking
