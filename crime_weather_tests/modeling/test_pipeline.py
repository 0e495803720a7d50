"""The level-aware pipeline: raw inputs in, expected robberies out, the level carried inside.

Data here is generated (harness.models.synthetic_features), never real.
"""

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import MODEL_INPUTS, TARGET, WEATHER_FIELDS
from crime_weather.modeling.estimation.config import DEFAULT_GLM, DEFAULT_HGB, ModelConfig
from crime_weather.modeling.estimation.pipeline import build_pipeline, history_end, model_input
from crime_weather.modeling.features.transformer import LevelFeatures
from harness.models import synthetic_features

MONTHS = ["2019-01", "2019-02", "2019-03", "2019-04"]
YEAR_AND_MORE = [f"2018-{m:02d}" for m in range(1, 13)] + MONTHS  # seasonal features need a year
FAST_HGB = ModelConfig("hgb", "ewm30_cmom28", params={"max_iter": 20, "min_samples_leaf": 40})


def _data(months=MONTHS) -> pd.DataFrame:
    return pd.concat(synthetic_features(list(months)).values(), ignore_index=True)


def _raw(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).reindex(columns=list(MODEL_INPUTS))


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    data = _data(YEAR_AND_MORE)
    return {
        family: build_pipeline(config).fit(model_input(data), data[TARGET])
        for family, config in (("hgb", FAST_HGB), ("glm", DEFAULT_GLM))
    }


def test_calendar_features_are_derived_from_the_raw_date():
    data = _data(YEAR_AND_MORE)
    features = LevelFeatures().fit(model_input(data), data[TARGET])
    row = features.transform(_raw([{"date": "2019-03-24", "comuna": 3, "temp_mean": 21.5}]))[0]
    names = list(features.get_feature_names_out())
    assert row[names.index("comuna")] == 2  # comunas 1..15 are codes 0..14
    assert row[names.index("weekday")] == 6 and row[names.index("day_of_year")] == 83
    assert row[names.index("is_holiday")] == 1.0  # Memory Day
    assert row[names.index("temp_mean")] == 21.5 and row[names.index("rain_day")] == 0.0
    assert len(names) == features.transform(model_input(data)).shape[1]


def test_iso_strings_and_datetimes_give_the_same_features():
    data = _data()
    features = LevelFeatures().fit(data[list(MODEL_INPUTS)], data[TARGET])
    np.testing.assert_array_equal(
        features.transform(data[list(MODEL_INPUTS)]), features.transform(model_input(data))
    )


def test_the_level_is_known_at_the_month_start_inside_the_history_and_last_known_after_it():
    data = _data()
    features = LevelFeatures().fit(model_input(data), data[TARGET])
    assert features.history_end == "2019-04-30"
    level = lambda day: features.transform(_raw([{"date": day, "comuna": 5}]))[0, 0]  # noqa: E731
    assert level("2019-03-02") == level("2019-03-31") != level("2019-04-15")  # per month origin
    assert level("2019-05-01") == level("2020-07-09") == level("2031-01-01")  # the last level known
    assert np.isfinite(level("1990-06-01")) and level("1990-06-01") > 0  # before the history: first known


def test_the_level_at_an_origin_ignores_that_day_and_after():
    data = _data()
    before = LevelFeatures().fit(model_input(data), data[TARGET])
    changed = data.copy()
    changed.loc[changed["date"] >= "2019-04-01", TARGET] *= 10
    after = LevelFeatures().fit(model_input(changed), changed[TARGET])
    april = _raw([{"date": "2019-04-10", "comuna": c} for c in range(1, 16)])
    np.testing.assert_array_equal(before.transform(april)[:, 0], after.transform(april)[:, 0])


@pytest.mark.parametrize("family", ["hgb", "glm"])
def test_missing_weather_predicts_as_normal_weather(fitted, family):
    pipeline = fitted[family]
    normals = pipeline.named_steps["features"].normals_
    days = ["2019-02-14", "2019-04-30", "2020-01-15", "2020-07-09"]
    without = _raw([{"date": day, "comuna": c} for day in days for c in (1, 8, 15)])
    normal = without.copy()
    doy = pd.to_datetime(normal["date"]).dt.dayofyear.to_numpy()
    for i, name in enumerate(WEATHER_FIELDS):
        normal[name] = normals[i, doy - 1]
    ratio = pipeline.predict(without) / pipeline.predict(normal)
    assert np.all(np.abs(ratio - 1) < 0.01)
    wet = normal.assign(precipitation_mm=30.0)
    assert not np.allclose(pipeline.predict(wet), pipeline.predict(normal))  # weather is still used


@pytest.mark.parametrize("family", ["hgb", "glm"])
def test_both_families_predict_positive_counts_that_follow_the_comuna(fitted, family):
    raw = _raw([{"date": "2019-05-06", "comuna": 1}, {"date": "2019-05-06", "comuna": 15}])
    predictions = fitted[family].predict(raw)
    assert predictions.shape == (2,) and (predictions > 0).all()
    assert predictions[1] > predictions[0]  # the synthetic rate grows with the comuna number
    assert history_end(fitted[family]) == "2019-04-30"


def test_a_configuration_round_trips_through_json():
    for config in (DEFAULT_HGB, DEFAULT_GLM, DEFAULT_HGB.without_weather()):
        assert ModelConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="unknown level spec"):
        ModelConfig("hgb", "ewm30")


def test_model_input_uses_iso_date_strings_like_the_api():
    inputs = model_input(_data(["2019-01"]))
    assert list(inputs.columns) == list(MODEL_INPUTS) and inputs["date"].iloc[0] == "2019-01-01"


def test_with_less_than_a_year_of_history_nothing_seasonal_is_extrapolated():
    short = _data()  # four months: a seasonal curve fitted on them would run wild in the other eight
    features = LevelFeatures().fit(model_input(short), short[TARGET])
    names = list(features.get_feature_names_out())
    rows = features.transform(_raw([{"date": day, "comuna": 1} for day in ("2019-02-01", "2019-08-01")]))
    assert (
        not features.seasonal_ and rows[0, names.index("day_of_year")] == rows[1, names.index("day_of_year")]
    )
    assert rows[0, names.index("temp_mean")] == rows[1, names.index("temp_mean")]  # a constant normal
    long = _data(YEAR_AND_MORE)
    features = LevelFeatures().fit(model_input(long), long[TARGET])
    rows = features.transform(_raw([{"date": day, "comuna": 1} for day in ("2019-02-01", "2019-08-01")]))
    assert features.seasonal_ and rows[0, names.index("temp_mean")] != rows[1, names.index("temp_mean")]
