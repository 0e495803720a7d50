"""Robberies for the coming days: every (forecast day, comuna) predicted by the champion, with intervals.

Pure: the weather and the model come in, the robbery_forecast table (core.names.FORECAST_COLUMNS)
goes out. The Dagster asset (orchestration/assets/forecast.py) only fetches and stores.

No number without evidence: a day more than `max_horizon_days` after the champion's last day of
crime data (`data_through`, forecasting/horizon.py) gets no count and no interval, only `reason` and
the weather rate ratio: the champion's prediction under the forecast weather over its prediction
under normal weather (every weather field null: the model fills the day-of-year normals) for the same
comuna-day. The ratio is relative, so it stays meaningful when the crime data are old. Its 95 % CI
columns are null: the default champion (gradient boosting) has no weather coefficients, and no
bootstrap is run at issue time; the weather_effects GLM (GET /effects) gives CIs per weather term.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from crime_weather.core.names import (
    COMUNAS,
    FORECAST_COLUMNS,
    INTERVAL_LEVELS,
    MAX_HORIZON_DAYS,
    WEATHER_FIELDS,
)
from crime_weather.modeling.estimation.intervals import poisson_interval, prediction_intervals
from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather.modeling.forecasting.horizon import horizon_days

Predict = Callable[[pd.DataFrame], np.ndarray]
_STRING = pd.StringDtype("pyarrow")
OPEN_METEO = "open-meteo"


def source_label(source: str) -> str:
    """What `weather_source` says: "open-meteo" for the forecast API, else the file's name: never a
    server path or a bucket (they say nothing to a reader and expose the deployment)."""
    if source.startswith(("http://", "https://")):
        return OPEN_METEO
    return source.rstrip("/").rsplit("/", 1)[-1]


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


def _predicted(predict: Predict, rows: pd.DataFrame) -> np.ndarray:
    expected = np.clip(np.asarray(predict(model_input(rows)), dtype="float64"), 0, None)
    if len(expected) != len(rows) or not np.isfinite(expected).all():
        raise ValueError("the model returned a non-finite prediction or one per row too few")
    return expected


def _beyond_reason(horizon: int, through: pd.Timestamp, max_horizon_days: int) -> str:
    return (
        f"horizon {horizon} days: the champion's crime data end {through:%Y-%m-%d}, and counts are "
        f"claimed at most {max_horizon_days} days ahead (the horizon the backtest validated); only the "
        "weather rate ratio is given"
    )


def forecast_table(
    weather: pd.DataFrame,
    predict: Predict,
    *,
    model_version: str,
    weather_source: str,
    issued_at: pd.Timestamp,
    data_through: pd.Timestamp,
    max_horizon_days: int = MAX_HORIZON_DAYS,
) -> pd.DataFrame:
    """One row per (day of `weather`, comuna 1..15): its horizon, expected robberies and 80 %/95 %
    intervals (null beyond `max_horizon_days`, with the `reason`), the weather rate ratio, the weather
    used, and what made it (model version, weather source label, when).

    `predict` takes the model's raw inputs (`model_input`: date as an ISO string, comuna, weather that
    may be null) and returns expected counts; the champion's `pipeline.predict`, whose pipeline then
    gives the intervals (the same function as the API's, so its dispersion at each day's horizon).
    `data_through`: the champion's last day of crime data (forecasting.horizon.data_through).
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
    expected = _predicted(predict, rows)
    normal = _predicted(predict, rows.assign(**{name: np.nan for name in WEATHER_FIELDS}))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(normal > 0, expected / normal, np.nan)
    horizons = horizon_days(rows["date"], data_through)
    beyond = horizons > max_horizon_days
    table = rows.assign(horizon_days=horizons, expected_robberies=np.where(beyond, np.nan, expected))
    for name, values in _model_intervals(predict, model_input(rows), expected).items():
        table[name] = pd.array(np.asarray(values, dtype="int64"), dtype="Int64")
        table.loc[beyond, name] = pd.NA
    reasons = [
        _beyond_reason(horizon, data_through, max_horizon_days) if out else None
        for horizon, out in zip(horizons.tolist(), beyond.tolist(), strict=True)
    ]
    table["reason"] = pd.Series(reasons, index=table.index, dtype=_STRING)
    table["weather_rate_ratio"] = ratio
    table["weather_rate_ratio_low"] = np.nan  # no CI source for the champion: see the module's docstring
    table["weather_rate_ratio_high"] = np.nan
    table["model_version"] = pd.Series(model_version, index=table.index, dtype=_STRING)
    table["weather_source"] = pd.Series(source_label(weather_source), index=table.index, dtype=_STRING)
    table["issued_at"] = pd.Series(issued_at, index=table.index).astype("datetime64[ns, UTC]")
    return table[list(FORECAST_COLUMNS)]


def city_totals(forecast: pd.DataFrame) -> pd.DataFrame:
    """Per day, the city's expected robberies (sum over comunas) and its intervals: the sum of
    independent Poisson counts is Poisson with the summed mean (the horizon's extra dispersion is
    not carried into the city total: the table has no column for it). Days without counts (beyond
    the horizon) are left out."""
    claimed = forecast[forecast["expected_robberies"].notna()]
    totals = claimed.groupby("date", sort=True)["expected_robberies"].sum().reset_index()
    return totals.assign(**_intervals(totals["expected_robberies"].to_numpy()))
