"""The model lifecycle on a real Dagster instance and a real MLflow registry (sqlite, temp artifacts).

Generated months (harness.models.synthetic_features), a small search and backtest budget.
"""

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from mlflow.tracking import MlflowClient

from crime_weather.modeling.estimation.config import ModelConfig
from crime_weather.modeling.registry.versions import CHALLENGER, CHAMPION, alias_version
from crime_weather_tests.dagster_helpers import instance_in_home, materialize, seed_daily_features
from harness.models import register_model, synthetic_features

MONTHS = [f"2019-{m:02d}" for m in range(1, 9)]
CONTRACT_METRICS = {
    "test_poisson_deviance",
    "test_mae",
    "test_rmse",
    "baseline_test_poisson_deviance",
    "no_weather_test_poisson_deviance",
    "backtest_poisson_deviance",
    "backtest_baseline_365d_poisson_deviance",
    "backtest_best_naive_poisson_deviance",
    "backtest_no_weather_poisson_deviance",
    "backtest_weather_gain",
    "backtest_weather_gain_ci_low",
    "backtest_weather_gain_ci_high",
    "backtest_pred_over_obs",
}
RETRAIN = ("train_test_split", "challenger_model", "champion_model")


def _metadata(instance: dg.DagsterInstance, asset: str) -> dict:
    return instance.get_latest_materialization_event(dg.AssetKey(asset)).asset_materialization.metadata


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    """One retrain (split -> challenger -> champion) on 8 generated months with a tiny budget."""
    home = tmp_path_factory.mktemp("home")
    budget = {"test_months": "2", "search_trials": "3", "search_folds": "2", "backtest_folds": "3"}
    with instance_in_home(home, **budget) as instance:
        seed_daily_features(instance, home / "warehouse", synthetic_features(MONTHS))
        result = materialize(instance, *RETRAIN)
        uri = f"sqlite:///{home / 'mlflow' / 'mlflow.db'}"
        yield home, instance, result, uri, MlflowClient(uri, uri)


def test_the_retrain_registers_a_champion_refit_on_every_month_with_its_lineage(lifecycle):
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
    assert json.loads(tags["trained_months"]) == MONTHS  # served: refit on all the months present
    assert json.loads(tags["test_months"]) == MONTHS[6:] and json.loads(tags["backtest_months"]) == MONTHS[5:]
    assert tags["history_end"] == "2019-08-31"
    card = champion.description  # its model card (crime_weather/modeling/reporting/model_card.py)
    assert card.startswith("# crime_weather v1") and "8 months, 2019-01 to 2019-08" in card
    assert "Data through: 2019-08-31" in card and "| 1 month |" in card and "weather features: yes" in card
    assert ModelConfig.from_json(tags["model_config"]).weather
    assert len(tags["training_data_fingerprint"]) == 16 and tags["git_commit"]
    assert tags["promotion_decision"] == "promoted" and tags["promoted_at"]
    assert (home / "warehouse" / "train_test_split" / "train.parquet").exists()


def test_the_champion_run_carries_the_contract_metrics_artifacts_and_nested_trials(lifecycle):
    _, _, _, _, client = lifecycle
    run = client.get_run(alias_version(client, "crime_weather", CHAMPION).run_id)
    metrics = run.data.metrics
    assert set(metrics) >= CONTRACT_METRICS
    assert metrics["backtest_folds"] == 3
    gain = metrics["backtest_weather_gain"]
    assert metrics["backtest_weather_gain_ci_low"] <= gain <= metrics["backtest_weather_gain_ci_high"]
    verdict = run.data.tags["weather_verdict"]
    if metrics["backtest_weather_gain_ci_low"] <= 0 <= metrics["backtest_weather_gain_ci_high"]:
        assert verdict == "no detectable predictive difference"
    children = client.search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(children) == 3 and all("search_poisson_deviance" in c.data.metrics for c in children)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"optuna_history.png", "optuna_trials.json", "model_config.json", "backtest"} <= artifacts
    backtest = {a.path for a in client.list_artifacts(run.info.run_id, "backtest")}
    assert backtest == {"backtest/folds.csv", "backtest/predictions.parquet", "backtest/pred_vs_obs.png"}


def test_dagster_metadata_shows_the_backtest_the_verdict_and_the_decision(lifecycle):
    _, instance, *_ = lifecycle
    meta = _metadata(instance, "challenger_model")
    assert meta["backtest_plot"].value.startswith("![predicted vs observed per month](data:image/png;base64,")
    assert meta["model_version"].value == "1" and meta["mlflow_model"].value == "models:/crime_weather/1"
    assert set(meta) >= CONTRACT_METRICS - {"backtest_baseline_365d_poisson_deviance"} | {"backtest_folds"}
    assert meta["backtest_folds"].value.count("\n| 2019-0") == 3  # one table row per fold
    assert "weather gain" in meta["weather_verdict"].value
    decision = _metadata(instance, "champion_model")
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


def test_a_worse_configuration_is_refused_and_a_better_one_takes_over(lifecycle):
    _, instance, _, uri, client = lifecycle
    weak = register_model(uri, alias=None, weak=True, months=MONTHS[:6])  # no level, one boosting step
    client.set_registered_model_alias("crime_weather", CHALLENGER, weak)
    assert materialize(instance, "champion_model").success
    assert str(alias_version(client, "crime_weather", CHAMPION).version) == "1"  # did not move
    tags = client.get_model_version("crime_weather", weak).tags
    assert tags["promotion_decision"] == "rejected" and float(tags["promotion_ci_low"]) > 0
    assert json.loads(tags["promotion_folds"]) == MONTHS[5:]
    meta = _metadata(instance, "champion_model")
    assert meta["decision"].value == "rejected" and meta["challenger_version"].value == weak

    # The weak configuration as champion: the searched one beats it on the same folds and takes over.
    client.set_registered_model_alias("crime_weather", CHAMPION, weak)
    client.set_registered_model_alias("crime_weather", CHALLENGER, "1")
    assert materialize(instance, "champion_model").success
    assert str(alias_version(client, "crime_weather", CHAMPION).version) == "1"
    tags = client.get_model_version("crime_weather", "1").tags
    assert tags["promotion_champion_version"] == weak and float(tags["promotion_ci_high"]) < 0


def test_a_new_month_always_reaches_the_champion(lifecycle):
    home, instance, _, _, client = lifecycle
    before = alias_version(client, "crime_weather", CHAMPION)
    seed_daily_features(instance, home / "warehouse", synthetic_features(["2019-09"], seed=9))
    result = materialize(instance, *RETRAIN)
    assert result.success
    champion = alias_version(client, "crime_weather", CHAMPION)
    assert champion.version != before.version
    assert json.loads(champion.tags["trained_months"]) == [*MONTHS, "2019-09"]
    assert champion.tags["history_end"] == "2019-09-30"
    assert champion.tags["promotion_decision"] in ("promoted", "refreshed")
    assert json.loads(champion.tags["promotion_folds"]) == ["2019-07", "2019-08", "2019-09"]


def test_the_search_reports_each_trial_in_the_dagster_run_log(lifecycle):
    _, instance, result, _, _ = lifecycle
    lines = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.user_message.startswith("search trial ")
    ]
    assert [line.split()[2] for line in lines] == ["1/3:", "2/3:", "3/3:"]
    bests = [float(line.rsplit(" ", 1)[1]) for line in lines]
    assert bests == sorted(bests, reverse=True), "best so far never rises"
