"""Both families round-trip through a real (sqlite) MLflow registry and load with our trusted types only."""

import json

import numpy as np
import pandas as pd
import pytest
from mlflow.entities import LoggedModelStatus

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import DEFAULT_GLM, ModelConfig
from crime_weather.modeling.estimation.pipeline import build_pipeline, history_end, model_input
from crime_weather.modeling.registry.cards import write_model_card
from crime_weather.modeling.registry.tracking import client_for, experiment_id, run
from crime_weather.modeling.registry.versions import (
    TAG_CONFIG,
    TAG_HISTORY_END,
    alias_version,
    describe_version,
    load_pipeline,
    register,
)
from crime_weather.modeling.reporting.model_card import model_card
from harness.models import synthetic_features, tracking_uri

MONTHS = [f"2018-{m:02d}" for m in range(1, 13)] + ["2019-01", "2019-02"]


@pytest.mark.parametrize(
    "config", [ModelConfig("hgb", "ewm21_cmom28", params={"max_iter": 15}), DEFAULT_GLM], ids=["hgb", "glm"]
)
def test_a_registered_pipeline_loads_and_predicts_the_same(tmp_path, config):
    data = pd.concat(synthetic_features(MONTHS).values(), ignore_index=True)
    inputs = model_input(data)
    pipeline = build_pipeline(config).fit(inputs, data[TARGET])
    uri = tracking_uri(tmp_path)
    client = client_for(uri)
    tags = {TAG_CONFIG: config.to_json(), TAG_HISTORY_END: history_end(pipeline)}
    with run(client, experiment_id(client, "test", (tmp_path / "artifacts").as_uri()), "model") as logged:
        version = register(logged, pipeline, inputs.head(5), "crime_weather", tags)
    client.set_registered_model_alias("crime_weather", "champion", version)
    registered = alias_version(client, "crime_weather", "champion")  # models:/crime_weather@champion
    loaded = load_pipeline(uri, registered)
    (logged_model,) = client.search_logged_models([logged.experiment_id])  # MLflow's "Logged models"
    assert logged_model.status == LoggedModelStatus.READY and logged_model.source_run_id == logged.run_id
    assert registered.source == logged_model.artifact_location  # one copy of the model, served from there
    assert json.loads(logged_model.tags["mlflow.modelVersions"]) == [
        {"name": "crime_weather", "version": version}
    ]
    rows = inputs.sample(200, random_state=0)
    np.testing.assert_array_equal(loaded.predict(rows), pipeline.predict(rows))
    info = describe_version(client, registered)
    assert info.history_end == "2019-02-28" and info.config == json.loads(config.to_json())
    assert info.promotion is None


RUN = {
    "metrics": {
        "backtest_poisson_deviance": 1.2345,
        "backtest_minus_best_naive": -0.05,
        "backtest_minus_best_naive_ci_low": -0.08,
        "backtest_minus_best_naive_ci_high": -0.02,
        "backtest_weather_gain": 0.011,
        "backtest_weather_gain_ci_low": 0.004,
        "backtest_weather_gain_ci_high": 0.019,
        "backtest_h1_poisson_deviance": 1.2345,
        "backtest_h1_coverage_95": 0.951,
        "backtest_h6_poisson_deviance": 1.4567,
        "test_poisson_deviance": 1.3,
    },
    "tags": {
        "trained_months": json.dumps(MONTHS),
        "backtest_months": json.dumps(MONTHS[-12:]),
        "history_end": "2019-02-28",
        "model_config": ModelConfig("hgb", "ewm21_cmom28", params={"max_iter": 15}).to_json(),
        "weather_verdict": "weather helps",
    },
    "params": {},
}


def test_the_model_card_states_data_accuracy_per_horizon_the_weather_verdict_and_the_limits():
    card = model_card("crime_weather", "7", RUN, max_horizon_days=184)
    assert card.startswith("# crime_weather v7\n")
    assert "14 months, 2018-01 to 2019-02" in card and "Data through: 2019-02-28" in card
    assert "Family: hgb; level: ewm21_cmom28; weather features: yes" in card and "max_iter=15" in card
    assert "| 1 month | 1.2345 | n/a | n/a | n/a | 0.9510 |" in card
    assert "| 6 months | 1.4567 |" in card and "| 2 months" not in card  # only horizons logged
    assert "-0.0500 (95 % CI -0.0800 to -0.0200)" in card
    assert "**weather helps**" in card and "0.0110 (95 % CI 0.0040 to 0.0190)" in card
    assert "not a risk score for an individual" in card.lower()
    assert "more than 184 days after the last day of crime data (data through 2019-02-28)" in card


def test_a_card_without_metrics_claims_nothing():
    card = model_card("crime_weather", "1", {"metrics": {}, "tags": {}, "params": {}}, 184)
    assert "No backtest metrics were logged" in card and "Not measured for this version." in card
    assert "(95 % CI" not in card


def test_every_registered_version_gets_its_card_as_its_description(tmp_path):
    data = pd.concat(synthetic_features(MONTHS[-3:]).values(), ignore_index=True)
    inputs = model_input(data)
    pipeline = build_pipeline(DEFAULT_GLM).fit(inputs, data[TARGET])
    client = client_for(tracking_uri(tmp_path))
    with run(client, experiment_id(client, "test", (tmp_path / "artifacts").as_uri()), "model") as logged:
        logged.metrics(RUN["metrics"])
        logged.tags({"weather_verdict": "no detectable predictive difference"})
        version = register(logged, pipeline, inputs.head(5), "crime_weather", {TAG_HISTORY_END: "2019-02-28"})
    card = write_model_card(client, "crime_weather", version, max_horizon_days=184)
    description = client.get_model_version("crime_weather", version).description
    assert description == card
    assert f"# crime_weather v{version}" in description
    assert "**no detectable predictive difference**" in description
    assert "Data through: 2019-02-28" in description  # the version's tag
