"""The recent robbery level per comuna, as known at an origin day (only days strictly before it).

The model predicts a rate relative to this level (a Poisson offset), so it follows a change of level
from the data instead of extrapolating a trend. A level spec is a short name the search chooses from:

- `ewm<h>_cmom<w>`: the comuna's exponentially weighted mean (halflife h days) x the city's momentum,
  its mean over the last w days / its own EWM (halflife h). The comuna EWM keeps each comuna's level
  precise; the momentum makes a city-wide step fully visible a month later.
- `mean<n>_cmom<w>`: the comuna's plain mean over n days x the city's mean over w days / over n days.
- `none`: no level (offset 1): the plain model, never searched, kept as a baseline configuration.

The search is restricted to a few specs on purpose: on a stable year it would pick long halflives that
never recover from a drop (model study, REPORT.md: a 60-day halflife without momentum never did).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# What the search may choose (model study: halflife 21-45 days with a 21/28-day city momentum, or a
# 91-day mean with a 28-day momentum).
SEARCHED_LEVELS: tuple[str, ...] = (
    "ewm21_cmom21",
    "ewm21_cmom28",
    "ewm30_cmom21",
    "ewm30_cmom28",
    "ewm45_cmom21",
    "ewm45_cmom28",
    "mean91_cmom28",
)
NO_LEVEL = "none"
LEVEL_FLOOR = 0.05  # robberies per day: a comuna with none for weeks still gets a positive offset

_SPEC = re.compile(r"^(ewm|mean)(\d+)_cmom(\d+)$")


@dataclass(frozen=True)
class LevelSpec:
    kind: str  # "ewm", "mean" or "none"
    span: int = 0  # EWM halflife or mean window, days
    momentum: int = 0  # city momentum window, days

    @classmethod
    def parse(cls, name: str) -> LevelSpec:
        if name == NO_LEVEL:
            return cls(NO_LEVEL)
        match = _SPEC.match(name)
        if match is None:
            raise ValueError(
                f"unknown level spec {name!r}: expected 'none', 'ewm<h>_cmom<w>' or 'mean<n>_cmom<w>'"
            )
        kind, span, momentum = match.groups()
        return cls(kind, int(span), int(momentum))


@dataclass(frozen=True)
class LevelTable:
    """Levels at every origin: one row per month start of the history, then the day after it ends."""

    origins: np.ndarray  # datetime64[D], increasing
    levels: np.ndarray  # origins x comunas, robberies per day
    history_days: np.ndarray  # days with data before each origin


def _ewm_before(values: np.ndarray, halflife: int) -> np.ndarray:
    """EWM of each column over the days strictly before each index (row i: days < i; row 0: NaN).

    Shifted by one day on purpose: the value at an origin must not include the origin's own day.
    """
    smoothed = pd.DataFrame(values).ewm(halflife=halflife, ignore_na=True).mean().to_numpy()
    return np.vstack([np.full((1, values.shape[1]), np.nan), smoothed])


def _trailing_mean(cumsum: np.ndarray, cumcount: np.ndarray, k: np.ndarray, days: int) -> np.ndarray:
    """Mean over the `days` days before index k (days with data only), from cumulative sums."""
    low = np.maximum(k - days, 0)
    count = cumcount[k] - cumcount[low]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cumsum[k] - cumsum[low]) / count


def _cumulative(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    observed = ~np.isnan(values)
    zeros = np.zeros((1, *values.shape[1:]))
    return (
        np.concatenate([zeros, np.cumsum(np.where(observed, values, 0.0), axis=0)]),
        np.concatenate([zeros, np.cumsum(observed, axis=0)]),
    )


def origins_of(first_day: np.datetime64, last_day: np.datetime64) -> np.ndarray:
    """Month starts from `first_day`'s month to `last_day`'s, then the day after `last_day`."""
    months = np.arange(first_day.astype("datetime64[M]"), last_day.astype("datetime64[M]") + 1)
    return np.concatenate([months.astype("datetime64[D]"), [last_day + 1]])


def level_table(history: np.ndarray, first_day: np.datetime64, spec: LevelSpec) -> LevelTable:
    """The level of each comuna (columns of `history`: robberies per day, NaN for a day without data)
    at every origin of the history that starts on `first_day`."""
    origins = origins_of(first_day, first_day + len(history) - 1)
    k = (origins - first_day).astype("int64")  # days of history before each origin
    city = np.where(np.isnan(history).any(axis=1), np.nan, history.sum(axis=1))[:, None]
    city_sum, city_count = _cumulative(city)
    history_days = city_count[k, 0].astype("int64")
    if spec.kind == NO_LEVEL:
        return LevelTable(origins, np.ones((len(k), history.shape[1])), history_days)
    momentum = _trailing_mean(city_sum, city_count, k, spec.momentum)
    if spec.kind == "ewm":
        comuna = _ewm_before(history, spec.span)[k]
        reference = _ewm_before(city, spec.span)[k]
    else:
        comuna = _trailing_mean(*_cumulative(history), k, spec.span)
        reference = _trailing_mean(city_sum, city_count, k, spec.span)
    with np.errstate(invalid="ignore", divide="ignore"):
        levels = comuna * momentum / reference
    return LevelTable(origins, _filled(levels), history_days)


def _filled(levels: np.ndarray) -> np.ndarray:
    """Floored at LEVEL_FLOOR; an origin without a level (no history before it, or a gap longer than
    the windows) takes the last level known before it, else the first known after it (only rows
    training leaves out, and dates before the history at serving, need the latter)."""
    if not np.isfinite(levels).any():
        return np.ones_like(levels)
    frame = pd.DataFrame(np.where(np.isfinite(levels), levels, np.nan))
    return np.maximum(frame.ffill().bfill().to_numpy(), LEVEL_FLOOR)
