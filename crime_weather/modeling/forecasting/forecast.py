"""Robberies for the coming days: every (forecast day, comuna) predicted by the champion, with intervals.

Pure: the weather and the model come in, the robbery_forecast table (core.names.FORECAST_COLUMNS)
goes out. The Dagster asset (orchestration/assets/forecast.py) only fetches and stores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from crime_weather.core.names import COMUNAS, FORECAST_COLUMNS, INTERVAL_LEVELS, WEATHER_FIELDS
from crime_weather.modeling.estimation.intervals import poisson_interval, prediction_intervals
from crime_weather.modeling.estimation.pipeline import model_input

Predict = Callable[[pd.DataFrame], np.ndarray]
_STRING = pd.StringDtype("pyarrow")


def _model_intervals(predict: Predict, inputs: pd.DataFrame, expected: np.ndarray) -> dict[str, np.ndarray]:
    """The model's own intervals (estimation.intervals.prediction_intervals: calibrated per horizon)
    when `predict` is a fitted pipeline's `predict`, else Poisson ones."""
    pipeline = getattr(predict, "__self__", None)
    if pipeline is None or "features" not in getattr(pipeline, "named_steps", {}):
        return _intervals(expected)
    bounds = prediction_intervals(pipeline, inputs, expected)
    names = [f"interval_{level}_{side}" for level in INTERVAL_LEVELS for side in ("low", "high")]
    return dict(zip(names, bounds, strict=True))


def _intervals(expected: np.ndarray) -> dict[str, np.ndarray]:
    columns = {}
    for level in INTERVAL_LEVELS:
        low, high = poisson_interval(expected, level / 100)
        columns[f"interval_{level}_low"], columns[f"interval_{level}_high"] = low, high
    return columns


def forecast_table(
    weather: pd.DataFrame,
    predict: Predict,
    *,
    model_version: str,
    weather_source: str,
    issued_at: pd.Timestamp,
) -> pd.DataFrame:
    """One row per (day of `weather`, comuna 1..15): expected robberies, 80 %/95 % intervals, the
    weather used, and what made it (model version, weather source, when).

    `predict` takes the model's raw inputs (`model_input`: date as an ISO string, comuna, weather that
    may be null) and returns expected counts; the champion's `pipeline.predict`, whose pipeline then
    gives the intervals (the same function as the API's, so its dispersion at each day's horizon).
    """
    days = pd.DatetimeIndex(pd.to_datetime(weather["date"]), name="date").astype("datetime64[ns]")
    if days.has_duplicates:
        raise ValueError("the forecast weather has a day twice")
    grid = pd.MultiIndex.from_product([days, COMUNAS], names=["date", "comuna"]).to_frame(index=False)
    daily = weather.assign(date=days).reindex(columns=["date", *WEATHER_FIELDS])
    rows = grid.merge(daily, on="date", how="left")
    rows["comuna"] = rows["comuna"].astype("int64")
    for name in WEATHER_FIELDS:
        rows[name] = rows[name].astype("float64")
    inputs = model_input(rows)
    expected = np.clip(np.asarray(predict(inputs), dtype="float64"), 0, None)
    if len(expected) != len(rows) or not np.isfinite(expected).all():
        raise ValueError("the model returned a non-finite prediction or one per row too few")
    table = rows.assign(expected_robberies=expected, **_model_intervals(predict, inputs, expected))
    table["model_version"] = pd.Series(model_version, index=table.index, dtype=_STRING)
    table["weather_source"] = pd.Series(weather_source, index=table.index, dtype=_STRING)
    table["issued_at"] = pd.Series(issued_at, index=table.index).astype("datetime64[ns, UTC]")
    return table[list(FORECAST_COLUMNS)]


def city_totals(forecast: pd.DataFrame) -> pd.DataFrame:
    """Per day, the city's expected robberies (sum over comunas) and its intervals: the sum of
    independent Poisson counts is Poisson with the summed mean (the horizon's extra dispersion is
    not carried into the city total: the table has no column for it)."""
    totals = forecast.groupby("date", sort=True)["expected_robberies"].sum().reset_index()
    return totals.assign(**_intervals(totals["expected_robberies"].to_numpy()))
