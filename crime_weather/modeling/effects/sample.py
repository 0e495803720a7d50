"""The data the effects GLM is fitted on: the comuna-days with the weather it needs, the weather
columns derived from the day's fields, and the fixed effects they are adjusted for."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import SplineTransformer

from crime_weather.modeling.effects.terms import (
    ANOMALY,
    HOLIDAY,
    HUMIDITY,
    MAIN_TERMS,
    RAIN,
    WEATHER_INPUTS,
    WIND,
    Term,
    temperature_bin,
)
from crime_weather.modeling.features.normals import seasonal_normal
from crime_weather.tables import terms

MIN_DAYS = 60  # fewer days with weather cannot separate weather from the fixed effects
KNOT_MONTHS = 3  # one spline knot per quarter: the level, not the season (months have their own effects)


@dataclass
class Sample:
    """The comuna-days the weather model sees, with the derived weather columns.

    `dropped` names each term or specification the data cannot support, and why (the JSON's
    `dropped_terms`); `holiday` is False when the sample's holidays cannot support their effect.
    """

    rows: pd.DataFrame
    terms: list[Term]
    dropped: dict[str, str]
    excluded_days: pd.DatetimeIndex
    all_days: int
    holiday: bool = True


def day_of_year_normal(dates: pd.Series, values: pd.Series) -> np.ndarray:
    """The normal of every date (one row per day): the model's own day-of-year normal (normals.py),
    so the anomaly the GLM reports is the one the model sees."""
    doy = terms.day_of_year(terms.as_days(dates.to_numpy()))
    return seasonal_normal(doy, values.to_numpy(dtype="float64"))[doy - 1]


def build_sample(features: pd.DataFrame) -> Sample:
    """daily_features rows of days with every weather field the kept terms need, and their columns.

    A field with no value at all cannot be estimated: its terms leave, the others stay; rain and
    temperature are required.
    """
    frame = features.sort_values(["date", "comuna"]).reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"])
    days = frame.drop_duplicates("date").set_index("date")
    present = {name for name in WEATHER_INPUTS if name in days and days[name].notna().any()}
    dropped = {t.variable: f"no {t.field} in the data" for t in MAIN_TERMS if t.field not in present}
    kept = [t for t in MAIN_TERMS if t.field in present]
    if RAIN not in kept or ANOMALY not in kept:
        raise ValueError("the weather effects need precipitation_mm and temp_mean: at least one has no value")
    normal = day_of_year_normal(days.index.to_series(), days["temp_mean"])
    weather = pd.DataFrame(index=days.index)
    weather["temp_mean"] = days["temp_mean"]
    weather[terms.TEMP_ANOMALY] = terms.anomaly(days["temp_mean"].to_numpy(), normal)
    weather["temp_bin"] = temperature_bin(days["temp_mean"])
    weather["rain_mm"] = days["precipitation_mm"]
    for name, values in terms.rain_terms(days["precipitation_mm"].to_numpy()).items():
        weather[name] = values
    if HUMIDITY in kept:
        weather["humidity"] = days["humidity_pct"]
    if WIND in kept:
        weather["wind"] = days["wind_speed_kmh"]
    needed = sorted(t.field for t in kept if t.field)
    complete = days[needed].notna().all(axis=1)
    rows = frame[frame["date"].isin(days.index[complete])].drop(columns=[*WEATHER_INPUTS], errors="ignore")
    rows = rows.join(weather[complete], on="date").reset_index(drop=True)
    if complete.sum() < MIN_DAYS:
        raise ValueError(
            f"only {int(complete.sum())} days have {', '.join(needed)}: at least {MIN_DAYS} are needed"
        )
    return Sample(rows, kept, dropped, days.index[~complete], len(days))


def fixed_effects(rows: pd.DataFrame, holiday: bool = True) -> pd.DataFrame:
    """const, comuna x weekday, month, holiday and a cubic B-spline of time (one knot per quarter)."""
    months = rows["date"].dt.to_period("M").nunique()
    elapsed = (rows["date"] - rows["date"].min()).dt.days.to_numpy(dtype="float64").reshape(-1, 1)
    spline = SplineTransformer(n_knots=max(2, months // KNOT_MONTHS + 1), degree=3).fit_transform(elapsed)
    cells = rows["comuna"].astype(str) + "x" + rows["weekday"].astype(str)
    parts = [
        pd.DataFrame({"const": 1.0}, index=rows.index),
        pd.get_dummies(cells, prefix="cw", drop_first=True, dtype="float64"),
        pd.get_dummies(rows["month"], prefix="month", drop_first=True, dtype="float64"),
        # B-splines sum to one: the first is the constant's.
        pd.DataFrame(spline[:, 1:], index=rows.index).add_prefix("trend_"),
    ]
    if holiday:
        parts.append(rows[[HOLIDAY.column]].astype("float64"))
    return pd.concat(parts, axis=1)
