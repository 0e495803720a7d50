"""LevelFeatures: raw observations (date, comuna, weather, nulls allowed) -> the model's feature matrix.

The fitted transformer carries what serving needs for any date: the per-comuna daily history up to
its training end, the level of every comuna at every origin (precomputed at fit time, so serving is a
lookup) and the day-of-year weather normals. Array-based: one pass of numpy over a batch, no
per-row Python, no DataFrame built.

Origins: a date inside the history takes the level at the start of its month (what was known then);
a date after it takes the level at the day after the history ends (the last level known), times the
factor calibrated for its month horizon (features.horizon) and exp(carry_h x the seasonal step the
frozen level misses) (features.season: the index comes from the fit's history, the share carried per
horizon is calibrated). The factors, the shares and the horizons' interval dispersion are set from
outside (fitted on months the backtest never scores), so they travel with the fitted pipeline to
serving.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from crime_weather.core.names import COMUNAS, WEATHER_FIELDS
from crime_weather.modeling.features.horizon import HorizonCalibration, month_horizon
from crime_weather.modeling.features.levels import LevelSpec, level_table
from crime_weather.modeling.features.matrix import feature_layout
from crime_weather.modeling.features.normals import normals_table
from crime_weather.modeling.features.season import seasonal_index, seasonal_steps
from crime_weather.tables import terms

_TEMP, _RAIN = WEATHER_FIELDS.index(terms.TEMP_MEAN), WEATHER_FIELDS.index("precipitation_mm")
# A day-of-year effect needs a full year of fitted rows (after the first month, which has no level)
# to be told apart from a trend: with less, it extrapolates the last weeks seen into the unseen season.
MIN_SEASONAL_DAYS = 365 + 31


def _column(X: pd.DataFrame, name: str) -> np.ndarray:
    if name not in X:
        return np.full(len(X), np.nan)
    return np.asarray(X[name], dtype="float64")


class LevelFeatures(TransformerMixin, BaseEstimator):
    """The columns of matrix.feature_layout, each built by the vocabulary (tables/terms.py): level,
    history_days, comuna (0..14), weekday, is_holiday, day_of_year, and with weather rain_day
    (>= 1 mm), log1p_rain, temp_mean, temp_anomaly (against the day-of-year normal).
    With less than MIN_SEASONAL_DAYS of history, day_of_year is a constant (no seasonal effect).

    A missing weather value is its day's normal (rain: 0 mm), so a request without weather predicts
    as one with normal weather. Raw humidity, wind, pressure and min/max temperature are left out:
    the model study found they earn nothing (+0.0023 deviance [-0.005, +0.010]).
    """

    def __init__(
        self,
        level: str = "ewm30_cmom28",
        weather: bool = True,
        horizon_factors: tuple[float, ...] = (),
        horizon_dispersion: tuple[float, ...] = (),
        horizon_seasonal: tuple[float, ...] = (),
    ) -> None:
        self.level = level
        self.weather = weather
        self.horizon_factors = horizon_factors  # per month horizon 1..H, on the frozen level; () = 1
        self.horizon_dispersion = horizon_dispersion  # NB alpha per month horizon; () = Poisson
        self.horizon_seasonal = horizon_seasonal  # share of the seasonal step carried per horizon; () = 0

    def fit(self, X: pd.DataFrame, y: Any) -> LevelFeatures:
        days = terms.as_days(X["date"])
        first, last = days.min(), days.max()
        offset = (days - first).astype("int64")
        comuna = np.asarray(X["comuna"], dtype="int64") - 1
        history = np.full((int(offset.max()) + 1, len(COMUNAS)), np.nan)
        history[offset, comuna] = np.asarray(y, dtype="float64")
        table = level_table(history, first, LevelSpec.parse(self.level))
        self.history_ = history  # robberies per day and comuna, NaN where no data
        self.first_day_, self.last_day_ = int(first.astype("int64")), int(last.astype("int64"))
        self.first_month_ = int(first.astype("datetime64[M]").astype("int64"))
        self.levels_, self.history_days_ = table.levels, table.history_days
        self.seasonal_ = len(history) >= MIN_SEASONAL_DAYS
        self.season_ = seasonal_index(history, first)
        self.normals_ = self._normals(X, days)
        self.temperature_seen_ = bool(np.isfinite(_column(X, "temp_mean")).any())
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _normals(X: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        _, first_row = np.unique(days, return_index=True)
        weather = np.column_stack([_column(X, name)[first_row] for name in WEATHER_FIELDS])
        table = normals_table(terms.day_of_year(days[first_row]), weather)
        return np.nan_to_num(table, nan=0.0)  # a field never observed: never used (see transform)

    @property
    def history_start(self) -> str:
        return str(np.datetime64(self.first_day_, "D"))

    @property
    def history_end(self) -> str:
        """The last day whose robberies the model knows: later dates get the level known then."""
        return str(np.datetime64(self.last_day_, "D"))

    def origin_rows(self, days: np.ndarray) -> np.ndarray:
        """Row of the level table for each day: its month's start inside the history, else the last."""
        inside = days.astype("int64") <= self.last_day_
        month = days.astype("datetime64[M]").astype("int64") - self.first_month_
        last = len(self.levels_) - 1
        return np.clip(np.where(inside, month, last), 0, last)

    def horizons(self, days: np.ndarray) -> np.ndarray:
        """The month horizon of each day (features.horizon.month_horizon; 1 inside the history)."""
        return month_horizon(days, self.last_day_)

    def level_factors(self, days: np.ndarray) -> np.ndarray:
        """The calibrated factor of each day's frozen level, the carried seasonal step included: 1
        inside the history (the fit's rows). A model saved before either existed: 1."""
        horizons = self.horizons(days)
        factors = HorizonCalibration.lookup(tuple(getattr(self, "horizon_factors", ())), horizons, 1.0)
        carried = HorizonCalibration.lookup(tuple(getattr(self, "horizon_seasonal", ())), horizons, 0.0)
        if carried.any():
            factors = factors * np.exp(carried * self.seasonal_steps(days))
        return np.where(days.astype("int64") > self.last_day_, factors, 1.0)

    def seasonal_steps(self, days: np.ndarray) -> np.ndarray:
        """The seasonal step each day's frozen level misses (features.season), before any share of
        it is carried: 0 in the first month after the history."""
        return seasonal_steps(self.season_, days, self.last_day_)

    def dispersion(self, X: pd.DataFrame) -> np.ndarray:
        """The negative-binomial alpha of each row's interval, by its month horizon (0: Poisson)."""
        days = terms.as_days(X["date"])
        values = tuple(getattr(self, "horizon_dispersion", ()))  # a model saved before: Poisson
        return HorizonCalibration.lookup(values, self.horizons(days), 0.0)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        days = terms.as_days(X["date"])
        comuna = np.asarray(X["comuna"], dtype="int64") - 1
        rows = self.origin_rows(days)
        doy = terms.day_of_year(days)
        columns = {
            terms.LEVEL: self.levels_[rows, comuna] * self.level_factors(days),
            terms.HISTORY_DAYS: self.history_days_[rows].astype("float64"),
            terms.COMUNA: comuna.astype("float64"),
            terms.WEEKDAY: terms.weekday(days).astype("float64"),
            terms.IS_HOLIDAY: terms.is_holiday(days).astype("float64"),
            terms.DAY_OF_YEAR: doy.astype("float64") if self.seasonal_ else np.ones(len(doy)),
        }
        if self.weather:
            columns |= self._weather(X, doy)
        return np.column_stack([columns[name] for name in feature_layout(self.weather).names])

    def _weather(self, X: pd.DataFrame, doy: np.ndarray) -> dict[str, np.ndarray]:
        """The weather terms, a missing value replaced by its day's normal first."""
        normal_temp = self.normals_[_TEMP, doy - 1]
        temp = _column(X, terms.TEMP_MEAN) if self.temperature_seen_ else normal_temp  # nothing to learn from
        temp = np.where(np.isnan(temp), normal_temp, temp)
        rain = _column(X, "precipitation_mm")
        rain = np.where(np.isnan(rain), self.normals_[_RAIN, doy - 1], rain)
        return {
            **terms.rain_terms(rain),
            terms.TEMP_MEAN: temp,
            terms.TEMP_ANOMALY: terms.anomaly(temp, normal_temp),
        }

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(feature_layout(self.weather).names, dtype=object)
