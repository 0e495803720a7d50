"""The one model pipeline: raw inputs (date, comuna, weather) in, expected robberies out.

Pipeline(LevelFeatures -> OffsetRegressor(family)). Everything the model needs from the raw
observation, the level included, is derived inside, so the logged MLflow model is all that training
and serving share: the per-horizon calibration (level factors, interval dispersion) included.
"""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.core.names import MODEL_INPUTS, WEATHER_FIELDS
from crime_weather.modeling.estimation.config import HGB, ModelConfig
from crime_weather.modeling.estimation.estimators import OffsetRegressor, SplineGLM, gradient_boosting
from crime_weather.modeling.features.horizon import HorizonCalibration
from crime_weather.modeling.features.transformer import LevelFeatures


def offset_model(config: ModelConfig, seed: int = 42) -> OffsetRegressor:
    """The configuration's estimator behind the level offset (the pipeline's last step)."""
    estimator = gradient_boosting(config.params, seed) if config.family == HGB else SplineGLM(**config.params)
    return OffsetRegressor(estimator)


def build_pipeline(
    config: ModelConfig, seed: int = 42, calibration: HorizonCalibration | None = None
) -> Pipeline:
    """The configuration's pipeline; `calibration` (None: none, Poisson intervals) per month horizon."""
    calibration = calibration or HorizonCalibration()
    features = LevelFeatures(
        level=config.level,
        weather=config.weather,
        horizon_factors=calibration.factors,
        horizon_dispersion=calibration.dispersion,
        horizon_seasonal=calibration.seasonal,
    )
    return Pipeline(
        [
            ("features", features),
            ("model", offset_model(config, seed)),
        ]
    )


def features_of(pipeline: Pipeline) -> LevelFeatures:
    return pipeline.named_steps["features"]


def history_end(pipeline: Pipeline) -> str:
    """The last day of robberies a fitted pipeline knows: later dates get the level known then."""
    return pipeline.named_steps["features"].history_end


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The raw columns the model takes, in order, with `date` as an ISO string (as the API sends it)."""
    inputs = frame.reindex(columns=list(MODEL_INPUTS)).copy()
    inputs["date"] = pd.to_datetime(inputs["date"]).dt.strftime("%Y-%m-%d")
    inputs["comuna"] = inputs["comuna"].astype("int64")
    for name in WEATHER_FIELDS:
        inputs[name] = inputs[name].astype("float64")
    return inputs


# Types beyond skops' own safe defaults that a fitted pipeline holds. Loading refuses anything else:
# this list comes from our code, never from the model file (our classes by their import path, so a
# module that moves moves its entry).
TRUSTED_TYPES: tuple[str, ...] = (
    *(f"{cls.__module__}.{cls.__qualname__}" for cls in (LevelFeatures, OffsetRegressor, SplineGLM)),
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "functools.partial",
)
