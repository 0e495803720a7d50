"""How far a date lies beyond the data a model knows, and what the model learnt about each distance.

A model trained up to `last_day` predicts a later date with the level known at `last_day + 1`. The
month horizon of a date is the calendar-month difference between it and `last_day + 1`, plus 1:
h = 1 is the first month the model has no counts for (the backtest's fold month), h = 2 the next...
Dates inside the history count as h = 1 (their level is the one known at their month's start).
This is the one definition: the multi-horizon backtest (modeling.selection.horizons) buckets its
rows by it, the pipeline corrects its level by it and the intervals widen by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HORIZON_MONTHS = 6  # horizons calibrated and scored; a date further away is treated as h = 6


def month_horizon(days: np.ndarray, last_day: np.datetime64 | int) -> np.ndarray:
    """The month horizon (1, 2, ...) of each day (datetime64[D]) for a model whose data ends on `last_day`."""
    origin = (np.datetime64(last_day, "D") + 1).astype("datetime64[M]").astype("int64")
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64") - origin
    return np.maximum(months, 0) + 1


@dataclass(frozen=True)
class HorizonCalibration:
    """Per month horizon h = 1..len: a factor on the frozen level (observed / predicted on rows the
    model had not seen), the share of the seasonal step the frozen level misses that is carried
    (features.season; 0: none) and the negative-binomial dispersion alpha_h of the intervals (0:
    Poisson).

    Fitted on the months before the backtest (modeling.selection.calibration), stored in the pipeline.
    """

    factors: tuple[float, ...] = ()
    dispersion: tuple[float, ...] = ()
    seasonal: tuple[float, ...] = ()
    # the seasonal slope fitted and its 95 % CI (estimate, low, high) that decided `seasonal`, for
    # the record (metrics, benchmark): not part of the pipeline
    seasonal_evidence: tuple[float, ...] = ()

    @staticmethod
    def lookup(values: tuple[float, ...], horizons: np.ndarray, default: float) -> np.ndarray:
        """Each row's value at its horizon; beyond the last one calibrated, the last one's."""
        if not values:
            return np.full(len(horizons), default)
        return np.asarray(values, dtype="float64")[np.minimum(horizons, len(values)) - 1]
