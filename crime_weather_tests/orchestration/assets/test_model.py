"""The model lifecycle on a real Dagster instance and a real MLflow registry (sqlite, temp artifacts)."""

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from mlflow.tracking import MlflowClient

from crime_weather.modeling.registry import CHALLENGER, CHAMPION, alias_version
from crime_weather_tests.dagster_helpers import materialize, seed_daily_features
from harness.models import register_model, synthetic_features

MONTHS = [f"2019-{m:02d}" for m in range(1, 9)]
CONTRACT_METRICS = {
    "test_poisson_deviance",
    "test_mae",
    "test_rmse",
    "baseline_test_poisson_deviance",
    "no_weather_test_poisson_deviance",
}


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    """One retrain (split -> challenger -> champion) on 8 synthetic months with a tiny search budget."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("CRIME_WEATHER_", "MLFLOW_"))]:
            patch.delenv(name)
        patch.setenv("CRIME_WEATHER_HOME", str(home))
        patch.setenv("CRIME_WEATHER_TEST_MONTHS", "2")
        patch.setenv("CRIME_WEATHER_SEARCH_TRIALS", "3")
        patch.setenv("CRIME_WEATHER_CV_SPLITS", "2")
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            seed_daily_features(instance, home / "warehouse", synthetic_features(MONTHS))
            result = materialize(instance, "train_test_split", "challenger_model", "champion_model")
            uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
            yield home, instance, result, uri, MlflowClient(uri, uri)


def test_the_retrain_registers_a_champion_with_its_lineage(lifecycle):
    home, _, result, _, client = lifecycle
    assert result.success
    assert {(e.asset_key.to_user_string(), e.passed) for e in result.get_asset_check_evaluations()} == {
        ("train_test_split", True),
        ("champion_model", True),
    }
    champion, challenger = (
        alias_version(client, "crime_weather", CHAMPION),
        alias_version(client, "crime_weather", CHALLENGER),
    )
    assert str(champion.version) == str(challenger.version) == "1"
    tags = champion.tags
    assert tags["dagster_run_id"] == result.run_id
    assert json.loads(tags["trained_months"]) == MONTHS[:6] and json.loads(tags["test_months"]) == MONTHS[6:]
    assert len(tags["training_data_fingerprint"]) == 16 and tags["git_commit"]
    assert tags["promotion_decision"] == "promoted" and tags["promoted_at"]
    assert (home / "warehouse" / "train_test_split" / "train.parquet").exists()


def test_the_champion_run_carries_the_contract_metrics_and_nested_trials(lifecycle):
    _, _, _, _, client = lifecycle
    run = client.get_run(alias_version(client, "crime_weather", CHAMPION).run_id)
    assert set(run.data.metrics) >= CONTRACT_METRICS
    assert run.data.metrics["test_poisson_deviance"] < run.data.metrics["baseline_test_poisson_deviance"]
    children = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert sorted(child.data.tags["search"] for child in children) == ["no_weather"] * 3 + ["weather"] * 3
    assert all("cv_poisson_deviance" in child.data.metrics for child in children)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"optuna_history.png", "permutation_importance.png", "optuna_trials.json"} <= artifacts


def test_dagster_metadata_shows_scores_plots_and_links(lifecycle):
    _, instance, *_ = lifecycle
    meta = instance.get_latest_materialization_event(
        dg.AssetKey("challenger_model")
    ).asset_materialization.metadata
    assert meta["permutation_importance"].value.startswith("![permutation importance](data:image/png;base64,")
    assert meta["model_version"].value == "1" and meta["mlflow_model"].value == "models:/crime_weather/1"
    assert "weather_gain_pct" in meta and set(meta) >= CONTRACT_METRICS
    decision = instance.get_latest_materialization_event(
        dg.AssetKey("champion_model")
    ).asset_materialization.metadata
    assert decision["decision"].value == "promoted" and decision["reason"].value == "no champion yet"


def test_the_champion_loads_in_a_fresh_process_and_predicts_from_raw_columns(lifecycle):
    _, _, _, uri, _ = lifecycle
    script = (
        "import mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model('models:/crime_weather@champion')\n"
        "rows = pd.DataFrame([{'date': '2019-09-02', 'comuna': 4, 'temp_mean': 12.5, 'temp_min': None,"
        " 'temp_max': None, 'precipitation_mm': 0.0, 'humidity_pct': None, 'wind_speed_kmh': None,"
        " 'pressure_hpa': None}])\n"
        "print(float(model.predict(rows)[0]))\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert output.returncode == 0, output.stderr[-2000:]
    assert float(output.stdout.strip().splitlines()[-1]) > 0


def test_a_worse_challenger_is_not_promoted_and_a_better_one_is(lifecycle):
    _, instance, _, uri, client = lifecycle
    weak = register_model(uri, alias=None, max_iter=1, months=MONTHS[:6])  # one boosting step: barely a model
    client.set_registered_model_alias("crime_weather", CHALLENGER, weak)
    assert materialize(instance, "champion_model").success
    assert str(alias_version(client, "crime_weather", CHAMPION).version) == "1"  # did not move
    assert client.get_model_version("crime_weather", weak).tags["promotion_decision"] == "rejected"
    meta = instance.get_latest_materialization_event(
        dg.AssetKey("champion_model")
    ).asset_materialization.metadata
    assert meta["decision"].value == "kept champion" and meta["challenger_version"].value == weak

    # The weak model as champion: the searched one beats it on the same test split and takes over.
    client.set_registered_model_alias("crime_weather", CHAMPION, weak)
    client.set_registered_model_alias("crime_weather", CHALLENGER, "1")
    assert materialize(instance, "champion_model").success
    assert str(alias_version(client, "crime_weather", CHAMPION).version) == "1"
    assert client.get_model_version("crime_weather", "1").tags["promotion_champion_version"] == weak
