"""Both families round-trip through a real (sqlite) MLflow registry and load with our trusted types only."""

import json

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.config import DEFAULT_GLM, ModelConfig
from crime_weather.modeling.estimation.pipeline import build_pipeline, history_end, model_input
from crime_weather.modeling.registry.tracking import client_for, experiment_id, run
from crime_weather.modeling.registry.versions import (
    TAG_CONFIG,
    TAG_HISTORY_END,
    describe_version,
    load_pipeline,
    register,
)
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
    registered = client.get_model_version("crime_weather", version)
    loaded = load_pipeline(uri, registered)
    rows = inputs.sample(200, random_state=0)
    np.testing.assert_array_equal(loaded.predict(rows), pipeline.predict(rows))
    info = describe_version(client, registered)
    assert info.history_end == "2019-02-28" and info.config == json.loads(config.to_json())
    assert info.promotion is None
