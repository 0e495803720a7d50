"""The champion's outlook: what it claims for every comuna-day of the next six months, stored at its
promotion so it can be graded as the truth lands (forecasting/scorecard.py).

The weather of those days is unknown when the claim is made: the fields are null and the model fills
each day's normal, so the claims are the model's own seasonal and level story. Beside them, every naive
level known at the same moment (modeling.estimation.metrics: the comuna x weekday mean over the last
n days of data), so the grade says whether the model beat what it could have been replaced by.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.core.names import (
    COMUNAS,
    INTERVAL_LEVELS,
    NAIVE_COLUMNS,
    OUTLOOK_COLUMNS,
    TARGET,
    WEATHER_FIELDS,
)
from crime_weather.modeling.estimation.intervals import poisson_interval
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_level, naive_name
from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather.modeling.forecasting.horizon import MAX_HORIZON_DAYS, data_through, horizon_days

_STRING = pd.StringDtype("pyarrow")


def outlook_days(through: pd.Timestamp, max_horizon_days: int = MAX_HORIZON_DAYS) -> pd.DatetimeIndex:
    """data_through + 1 .. data_through + max_horizon_days."""
    first = pd.Timestamp(through) + pd.Timedelta(days=1)
    return pd.date_range(first, periods=max_horizon_days, freq="D", name="date").astype("datetime64[ns]")


def naive_levels(history: pd.DataFrame, origin: pd.Timestamp, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each naive level (metrics.NAIVE_WINDOWS) known at `origin`, for `rows` (date, comuna)."""
    frame = history.assign(date=pd.to_datetime(history["date"]))[["date", "comuna", TARGET]].dropna()
    if not (frame["date"] < origin).any():
        raise ValueError(f"no observed robberies before {origin:%Y-%m-%d}: no naive level is known")
    return {naive_name(window): naive_level(frame, origin, window, rows) for window in NAIVE_WINDOWS}


def outlook_table(
    pipeline: Pipeline,
    version: str,
    history: pd.DataFrame,
    *,
    issued_at: pd.Timestamp | None = None,
    max_horizon_days: int = MAX_HORIZON_DAYS,
) -> pd.DataFrame:
    """One row per (day, comuna) from data_through + 1 to data_through + `max_horizon_days`: expected
    robberies under normal weather, 80 %/95 % Poisson intervals, the horizon in days, the naive levels
    known at data_through + 1 (from `history`, daily_features rows), the version and when it was issued.
    """
    through = data_through(pipeline)
    grid = pd.MultiIndex.from_product(
        [outlook_days(through, max_horizon_days), COMUNAS], names=["date", "comuna"]
    ).to_frame(index=False)
    grid["comuna"] = grid["comuna"].astype("int64")
    rows = grid.assign(**{name: np.nan for name in WEATHER_FIELDS})
    expected = np.clip(np.asarray(pipeline.predict(model_input(rows)), dtype="float64"), 0, None)
    if len(expected) != len(grid) or not np.isfinite(expected).all():
        raise ValueError("the model returned a non-finite prediction or one per row too few")
    table = grid.assign(expected_robberies=expected)
    for level in INTERVAL_LEVELS:
        low, high = poisson_interval(expected, level / 100)
        table[f"interval_{level}_low"], table[f"interval_{level}_high"] = low, high
    table["horizon_days"] = horizon_days(table["date"], through)
    naive = naive_levels(history, through + pd.Timedelta(days=1), grid)
    for name in NAIVE_COLUMNS:
        table[name] = naive[name]
    table["data_through"] = pd.Series(through, index=table.index).astype("datetime64[ns]")
    table["model_version"] = pd.Series(str(version), index=table.index, dtype=_STRING)
    stamp = issued_at if issued_at is not None else pd.Timestamp.now(tz="UTC")
    table["issued_at"] = pd.Series(stamp, index=table.index).astype("datetime64[ns, UTC]")
    return table[list(OUTLOOK_COLUMNS)]
