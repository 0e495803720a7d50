"""daily_features with weather effects planted at known values: does the effects GLM find the truth?

Generated, not real. Shaped like the real data where it matters to the estimator: comuna x weekday
levels, a season, a falling level, holidays, rainy days cooler than dry ones (so adjustment matters),
a shock shared by every comuna on the same day (so errors must be clustered by day) and gamma-Poisson
counts (overdispersed like the real ones, ~1.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crime_weather.core.names import CALENDAR_COLUMNS, COMUNAS, TARGET, WEATHER_FIELDS
from crime_weather.tables.features import calendar_columns

RAIN_RATIO = 0.90  # rate ratio of a day with rain >= 1 mm
TEMP_RATIO = 1.01  # rate ratio per +1 °C of temperature anomaly
HUMIDITY_RATIO = WIND_RATIO = 1.0  # no effect: the estimate should say so


def planted_features(
    seed: int,
    first: str = "2018-01-01",
    last: str = "2019-12-31",
    *,
    alpha: float = 0.03,
    day_shock_sd: float = 0.04,
    trend_per_year: float = -0.10,
    level_steps: Sequence[tuple[str, float]] = (),
) -> dict[str, pd.DataFrame]:
    """daily_features-shaped frames per month (`YYYY-MM`), robberies drawn with the planted effects.

    `alpha` is the negative-binomial overdispersion (0: Poisson), `day_shock_sd` the sd of the log
    shock every comuna shares on one day, `trend_per_year` the log change of the level per year and
    `level_steps` (day, ratio) steps of every comuna's level from that day on (cumulative: a drop and
    its recovery are two steps).
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range(first, last, freq="D")
    angle = 2 * np.pi * (days.dayofyear.to_numpy() - 1) / 365.25
    normal = 17.5 + 6.5 * np.cos(angle - 0.35) + 0.8 * np.sin(2 * angle)  # Buenos Aires-like season
    rainy = rng.random(len(days)) < 0.20 + 0.05 * np.cos(angle)
    anomaly = np.zeros(len(days))
    for i in range(1, len(days)):  # persistent spells of warm and cold days
        anomaly[i] = 0.7 * anomaly[i - 1] + rng.normal(0, 2.2)
    anomaly -= 1.5 * rainy  # rainy days are cooler
    weather = pd.DataFrame(
        {
            "date": days,
            "temp_mean": normal + anomaly,
            "temp_min": normal + anomaly - 4.5,
            "temp_max": normal + anomaly + 5.0,
            "precipitation_mm": np.where(
                rainy,
                1.0 + rng.exponential(9.0, len(days)),
                rng.uniform(0, 0.9, len(days)) * (rng.random(len(days)) < 0.2),
            ),
            "humidity_pct": np.clip(68 + 12 * rainy + rng.normal(0, 9, len(days)), 5, 100),
            "wind_speed_kmh": np.clip(12 + 3 * rainy + rng.gamma(4, 1.5, len(days)), 0, 120),
            "pressure_hpa": 1013 + rng.normal(0, 5, len(days)),
        }
    )
    log_day = (
        math.log(RAIN_RATIO) * rainy
        + math.log(TEMP_RATIO) * anomaly
        + 0.06 * np.cos(angle)  # season
        + trend_per_year * (days - days[0]).days.to_numpy() / 365.25  # by default it falls 10 % a year
        + rng.normal(0, day_shock_sd, len(days))
    )
    for start, ratio in level_steps:
        log_day = log_day + math.log(ratio) * (days >= pd.Timestamp(start))
    grid = pd.MultiIndex.from_product([days, COMUNAS], names=["date", "comuna"]).to_frame(index=False)
    grid = grid.join(weather.set_index("date"), on="date")
    grid = pd.concat([grid, calendar_columns(grid["date"])], axis=1)
    comuna_level = np.log(rng.uniform(7, 25, len(COMUNAS) + 1))
    weekday_effect = rng.normal(0, 0.08, 7)
    log_rate = (
        comuna_level[grid["comuna"]]
        + weekday_effect[grid["weekday"]]
        + np.log(0.75) * grid["is_holiday"]
        + np.repeat(log_day, len(COMUNAS))
    )
    rate = np.exp(log_rate)
    if alpha > 0:  # gamma-Poisson: variance mu + alpha mu^2
        rate = rate * rng.gamma(1 / alpha, alpha, len(rate))
    grid[TARGET] = rng.poisson(rate).astype("int64")
    grid["comuna"] = grid["comuna"].astype("int64")
    frame = grid[["date", "comuna", TARGET, *WEATHER_FIELDS, *CALENDAR_COLUMNS]]
    return {
        f"{month}": part.reset_index(drop=True)
        for month, part in frame.groupby(frame["date"].dt.to_period("M"))
    }
