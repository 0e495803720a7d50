"""The weather (and calendar) terms the effects GLM reports, and how each one's effect is read.

These are the effects' own definitions (rain day at RAIN_DAY_MM, the temperature bins, the
contrasts); sample.py derives the columns from them. They stay here, unchanged, until the effects
are wired to the platform's one feature vocabulary.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RAIN_DAY_MM = 1.0
TEMP_EDGES = (10.0, 15.0, 20.0, 25.0, 28.0)  # bins of the daily mean temperature, °C
REFERENCE_BIN = "15-20 °C"
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


RAIN = Term("rain_day", "rain", f"rain >= {RAIN_DAY_MM:g} mm vs drier days", "precipitation_mm")
ANOMALY = Term("temp_anomaly", "temperature anomaly", "+1 °C above the day-of-year normal", "temp_mean")
HUMIDITY = Term("humidity", "humidity", "+10 points of relative humidity", "humidity_pct", 10.0)
WIND = Term("wind", "wind", "+10 km/h of mean wind speed", "wind_speed_kmh", 10.0)
RAIN_MM = Term(
    "log_rain",
    "rain amount",
    "1 + mm doubled (e.g. 3 -> 7 mm), beyond the rain-day step",
    "precipitation_mm",
    math.log(2.0),
)
HOLIDAY = Term("is_holiday", "public holiday", "holiday vs other days", None, group="calendar")
MAIN_TERMS = (RAIN, ANOMALY, HUMIDITY, WIND)
REQUIRED_TERMS = (RAIN, ANOMALY)  # without either there is nothing to report

BIN_LABELS = (
    f"< {TEMP_EDGES[0]:g} °C",
    *(f"{low:g}-{high:g} °C" for low, high in itertools.pairwise(TEMP_EDGES)),
    f">= {TEMP_EDGES[-1]:g} °C",
)


def temperature_bin(temp: pd.Series) -> pd.Series:
    """The bin label of each daily mean temperature (left-closed: 20.0 °C is in 20-25 °C)."""
    edges = (-np.inf, *TEMP_EDGES, np.inf)
    return pd.cut(temp, edges, right=False, labels=list(BIN_LABELS)).astype("string")


def bin_term(label: str) -> Term:
    """The contrast of one temperature bin against the reference bin."""
    return Term(
        f"bin {label}",
        f"temperature {label}",
        f"temperature {label} vs {REFERENCE_BIN} (daily mean)",
        "temp_mean",
    )
