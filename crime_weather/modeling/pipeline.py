"""The one feature pipeline: raw inputs (date, comuna, weather) in, expected robberies out.

Everything the model needs from the raw observation is derived inside the pipeline, so the logged
MLflow model is all that training and serving share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

from crime_weather.core.names import COMUNAS, MODEL_INPUTS, WEATHER_FIELDS
from crime_weather.tables.features import is_holiday

CALENDAR_FEATURES = ("weekday", "month", "day_of_year", "is_holiday", "year")


class RawInputFeatures(TransformerMixin, BaseEstimator):
    """Turns raw observations into model features: calendar from `date`, comuna as a category,
    weather as given (nulls stay NaN: gradient boosting routes missing values itself).

    A weather column with no value at all in the training data (e.g. humidity before 2017) carries
    nothing to learn from and is left out (`weather_columns_`); predictions ignore it too.
    """

    def __init__(self, use_weather: bool = True) -> None:
        self.use_weather = use_weather

    def fit(self, X: pd.DataFrame, y: Any = None) -> RawInputFeatures:
        self.weather_columns_ = [
            name for name in WEATHER_FIELDS if self.use_weather and name in X and X[name].notna().any()
        ]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        dates = pd.to_datetime(X["date"])
        features = pd.DataFrame(
            {
                "comuna": pd.Categorical(
                    pd.to_numeric(X["comuna"]).astype("int64"), categories=list(COMUNAS)
                ),
                "weekday": dates.dt.weekday.to_numpy(dtype="float64"),
                "month": dates.dt.month.to_numpy(dtype="float64"),
                "day_of_year": dates.dt.dayofyear.to_numpy(dtype="float64"),
                "is_holiday": is_holiday(dates).astype("float64"),
                "year": dates.dt.year.to_numpy(dtype="float64"),
            },
            index=X.index,
        )
        for name in self.weather_columns_:
            values = X.get(name, np.nan)
            features[name] = pd.to_numeric(pd.Series(values, index=X.index), errors="coerce").astype(
                "float64"
            )
        return features

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(["comuna", *CALENDAR_FEATURES, *self.weather_columns_], dtype=object)


def build_pipeline(
    params: dict[str, Any] | None = None, *, use_weather: bool = True, seed: int = 42
) -> Pipeline:
    """RawInputFeatures -> HistGradientBoostingRegressor with a Poisson loss (counts, log link)."""
    model = HistGradientBoostingRegressor(
        loss="poisson",
        categorical_features="from_dtype",
        random_state=seed,
        early_stopping=False,
        **(params or {}),
    )
    return Pipeline([("features", RawInputFeatures(use_weather=use_weather)), ("model", model)])


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The raw columns the model takes, in order, with `date` as an ISO string (as the API sends it)."""
    inputs = frame.reindex(columns=list(MODEL_INPUTS)).copy()
    inputs["date"] = pd.to_datetime(inputs["date"]).dt.strftime("%Y-%m-%d")
    inputs["comuna"] = inputs["comuna"].astype("int64")
    for name in WEATHER_FIELDS:
        inputs[name] = inputs[name].astype("float64")
    return inputs


# Types beyond skops' own safe defaults that a fitted pipeline holds. Loading refuses anything else:
# this list comes from our code, never from the model file.
TRUSTED_TYPES: tuple[str, ...] = (
    "crime_weather.modeling.pipeline.RawInputFeatures",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "functools.partial",
)
