import numpy as np
import pandas as pd

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.modeling.pipeline import RawInputFeatures, build_pipeline, model_input
from harness.models import synthetic_features


def _data(months=("2019-01", "2019-02")) -> pd.DataFrame:
    return pd.concat(synthetic_features(list(months)).values(), ignore_index=True)


def test_features_are_derived_inside_the_pipeline_from_raw_columns():
    raw = pd.DataFrame([{"date": "2019-03-24", "comuna": 3, "temp_mean": 21.5}])
    features = RawInputFeatures().fit(model_input(_data())).transform(raw)
    row = features.iloc[0]
    assert (row["weekday"], row["month"], row["day_of_year"], row["is_holiday"], row["year"]) == (
        6,
        3,
        83,
        1.0,
        2019,
    )
    assert row["comuna"] == 3 and str(features["comuna"].dtype) == "category"
    assert row["temp_mean"] == 21.5 and np.isnan(row["precipitation_mm"])  # present in training, null here


def test_a_weather_column_never_seen_in_training_is_left_out():
    data = model_input(_data())
    assert data["humidity_pct"].isna().all()
    transformer = RawInputFeatures().fit(data)
    assert "humidity_pct" not in transformer.weather_columns_ and "temp_mean" in transformer.weather_columns_
    assert list(transformer.get_feature_names_out()) == list(transformer.transform(data).columns)
    assert RawInputFeatures(use_weather=False).fit(data).weather_columns_ == []


def test_the_pipeline_fits_on_gappy_weather_and_predicts_positive_counts():
    data = _data()
    data.loc[::3, "temp_mean"] = np.nan
    pipeline = build_pipeline({"max_iter": 20}).fit(model_input(data), data[TARGET])
    raw = pd.DataFrame({"date": ["2019-02-01", "2019-02-02"], "comuna": [1, 15]}).reindex(
        columns=list(MODEL_INPUTS)
    )
    predictions = pipeline.predict(raw)
    assert predictions.shape == (2,) and (predictions > 0).all()
    assert predictions[1] > predictions[0]  # the synthetic rate grows with the comuna number


def test_model_input_uses_iso_date_strings_like_the_api():
    inputs = model_input(_data(["2019-01"]))
    assert list(inputs.columns) == list(MODEL_INPUTS) and inputs["date"].iloc[0] == "2019-01-01"
