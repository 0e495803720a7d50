"""The two families behind a Poisson offset: gradient boosting and a spline GLM.

OffsetRegressor turns any Poisson regressor into one with offset log(level): fit on y / level with
sample weight level, predict rate x level. For a Poisson loss with a log link this is exactly the
offset model, and it lets trees, which cannot extrapolate, model only the rate around a level that
moves with the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import PoissonRegressor
from sklearn.preprocessing import SplineTransformer

from crime_weather.core.names import COMUNAS
from crime_weather.modeling.features.matrix import (
    CALENDAR_TERMS,
    feature_layout_of,
    rate_layout_of,
    rate_part,
)
from crime_weather.modeling.features.normals import DAYS_IN_YEAR
from crime_weather.tables.terms import (
    COMUNA,
    DAY_OF_YEAR,
    HISTORY_DAYS,
    IS_HOLIDAY,
    LEVEL,
    LOG1P_RAIN,
    RAIN_DAY,
    TEMP_ANOMALY,
    TEMP_MEAN,
    TEMPERATURE_BIN_LABELS,
    WEEKDAY,
    temperature_bin,
)

MIN_RATE = 1e-3  # Poisson deviance is undefined at 0
MIN_HISTORY_DAYS = 28  # rows whose level rests on less history are left out of the fit (e.g. 2016-01)


class OffsetRegressor(RegressorMixin, BaseEstimator):
    """Columns `level` and `history_days` of the features are the offset and its support; the rest
    (matrix.rate_part) go to `estimator`, fitted on y / level with sample_weight = level."""

    def __init__(self, estimator: Any = None, min_history_days: int = MIN_HISTORY_DAYS) -> None:
        self.estimator = estimator
        self.min_history_days = min_history_days

    def fit(self, F: np.ndarray, y: Any) -> OffsetRegressor:
        layout = feature_layout_of(F)
        level, y = layout.column(F, LEVEL), np.asarray(y, dtype="float64")
        keep = layout.column(F, HISTORY_DAYS) >= self.min_history_days
        if not keep.any():  # a history shorter than the minimum: all there is
            keep[:] = True
        self.estimator_ = clone(self.estimator).fit(
            rate_part(F)[keep], y[keep] / level[keep], sample_weight=level[keep]
        )
        return self

    def predict(self, F: np.ndarray) -> np.ndarray:
        level = feature_layout_of(F).column(F, LEVEL)
        return np.maximum(self.estimator_.predict(rate_part(F)) * level, MIN_RATE)


def gradient_boosting(params: dict[str, Any], seed: int) -> HistGradientBoostingRegressor:
    """Poisson-loss boosting; the comuna is categorical (the calendar terms lead either rate layout).
    No early stopping: its random validation split would leak days across the time order."""
    comuna = [CALENDAR_TERMS.index(COMUNA)]
    return HistGradientBoostingRegressor(
        loss="poisson", categorical_features=comuna, early_stopping=False, random_state=seed, **params
    )


def _one_hot(codes: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size)[codes.astype("int64")]


class SplineGLM(RegressorMixin, BaseEstimator):
    """Poisson regression on a design built with numpy: one-hot comuna and weekday (and their
    interaction), a periodic cubic spline of the day of year, the holiday flag, and with weather the
    temperature in bins (or linear) plus standardised rain and anomaly columns.

    The spline basis is tabulated for days 1..366 at fit time: the fitted model holds arrays only
    (no scipy objects for skops to trust), and serving looks the basis up.

    Input columns: matrix.rate_layout (LevelFeatures without the offset), selected by name.
    """

    def __init__(
        self,
        alpha: float = 0.0765,
        doy_knots: int = 9,
        temperature: str = "bins",
        comuna_weekday: bool = True,
        max_iter: int = 300,
    ) -> None:
        self.alpha = alpha
        self.doy_knots = doy_knots
        self.temperature = temperature
        self.comuna_weekday = comuna_weekday
        self.max_iter = max_iter

    def _categorical(self, Z: np.ndarray) -> list[np.ndarray]:
        layout = rate_layout_of(Z)
        comuna, weekday = layout.column(Z, COMUNA), layout.column(Z, WEEKDAY)
        blocks = [_one_hot(comuna, len(COMUNAS)), _one_hot(weekday, 7)]
        if self.comuna_weekday:
            blocks.append(_one_hot(comuna * 7 + weekday, 7 * len(COMUNAS)))
        return blocks

    def _numeric(self, Z: np.ndarray) -> np.ndarray:
        layout = rate_layout_of(Z)
        blocks = [
            self.doy_basis_[layout.column(Z, DAY_OF_YEAR).astype("int64") - 1],
            layout.take(Z, IS_HOLIDAY),
        ]
        if RAIN_DAY in layout:
            blocks.append(layout.take(Z, RAIN_DAY, LOG1P_RAIN, TEMP_ANOMALY))
            if self.temperature == "linear":
                blocks.append(layout.take(Z, TEMP_MEAN))
        return np.hstack(blocks)

    def _design(self, Z: np.ndarray) -> np.ndarray:
        layout, blocks = rate_layout_of(Z), self._categorical(Z)
        if TEMP_MEAN in layout and self.temperature == "bins":
            bins = temperature_bin(layout.column(Z, TEMP_MEAN))
            blocks.append(_one_hot(bins, len(TEMPERATURE_BIN_LABELS)))
        numeric = (self._numeric(Z) - self.mean_) / self.scale_
        return np.hstack([*blocks, numeric])

    def fit(self, Z: np.ndarray, y: Any, sample_weight: Any = None) -> SplineGLM:
        knots = np.linspace(1, 367, self.doy_knots).reshape(-1, 1)
        day_of_year = rate_layout_of(Z).take(Z, DAY_OF_YEAR)
        spline = SplineTransformer(knots=knots, extrapolation="periodic").fit(day_of_year)
        self.doy_basis_ = spline.transform(np.arange(1, DAYS_IN_YEAR + 1).reshape(-1, 1))
        numeric = self._numeric(Z)
        self.mean_, spread = numeric.mean(axis=0), numeric.std(axis=0)
        self.scale_ = np.where(spread > 1e-6, spread, 1.0)  # a constant column stays 0
        self.glm_ = PoissonRegressor(alpha=self.alpha, solver="newton-cholesky", max_iter=self.max_iter)
        self.glm_.fit(self._design(Z), y, sample_weight=sample_weight)
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.glm_.predict(self._design(Z))
