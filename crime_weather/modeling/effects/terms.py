"""The weather (and calendar) terms the effects GLM reports, and how each one's effect is read.

The terms themselves (rain day at RAIN_DAY_MM, the anomaly, the temperature bins) come from the
platform's one feature vocabulary (crime_weather/tables/terms.py), so the GLM reports the effect of
the very columns the model sees; what is added here is how each one's effect is read (its contrast).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crime_weather.tables import terms
from crime_weather.tables.terms import RAIN_DAY_MM

BIN_LABELS = terms.TEMPERATURE_BIN_LABELS
REFERENCE_BIN = BIN_LABELS[2]  # 15-20 °C: the city's most common days
WEATHER_INPUTS = ("precipitation_mm", "temp_mean", "humidity_pct", "wind_speed_kmh")
MAIN, RAIN_AMOUNT, TEMPERATURE_BINS = "main", "rain amount", "temperature bins"
RAIN_PER_COMUNA = "rain per comuna"


@dataclass(frozen=True)
class Term:
    """One weather (or calendar) column of the design and how its effect is read."""

    column: str
    variable: str
    contrast: str
    field: str | None  # the weather field it is built from (None: calendar)
    scale: float = 1.0  # the contrast in the column's units: rate ratio = exp(coefficient * scale)
    group: str = "weather"


RAIN = Term(terms.RAIN_DAY, "rain", f"rain >= {RAIN_DAY_MM:g} mm vs drier days", "precipitation_mm")
ANOMALY = Term(terms.TEMP_ANOMALY, "temperature anomaly", "+1 °C above the day-of-year normal", "temp_mean")
HUMIDITY = Term("humidity", "humidity", "+10 points of relative humidity", "humidity_pct", 10.0)
WIND = Term("wind", "wind", "+10 km/h of mean wind speed", "wind_speed_kmh", 10.0)
RAIN_MM = Term(
    terms.LOG1P_RAIN,
    "rain amount",
    "1 + mm doubled (e.g. 3 -> 7 mm), beyond the rain-day step",
    "precipitation_mm",
    math.log(2.0),
)
HOLIDAY = Term(terms.IS_HOLIDAY, "public holiday", "holiday vs other days", None, group="calendar")
MAIN_TERMS = (RAIN, ANOMALY, HUMIDITY, WIND)
REQUIRED_TERMS = (RAIN, ANOMALY)  # without either there is nothing to report


def temperature_bin(temp: pd.Series) -> pd.Series:
    """The bin label of each daily mean temperature (left-closed: 20.0 °C is in 20-25 °C); a day
    without a temperature has none."""
    labels = np.asarray(BIN_LABELS, dtype=object)[terms.temperature_bin(temp.to_numpy(dtype="float64"))]
    return pd.Series(labels, index=temp.index, dtype="string").mask(temp.isna())


def bin_term(label: str) -> Term:
    """The contrast of one temperature bin against the reference bin."""
    return Term(
        f"bin {label}",
        f"temperature {label}",
        f"temperature {label} vs {REFERENCE_BIN} (daily mean)",
        "temp_mean",
    )
