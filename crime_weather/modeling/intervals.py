"""Prediction intervals of a count from the model's count distribution: Poisson.

The model predicts a Poisson mean per (day, comuna) (HistGradientBoosting with a Poisson loss); a
study on the rolling backtest found Poisson intervals cover 0.801 (80 %) and 0.949 (95 %) of the
observed counts, so no dispersion parameter is added. A sum of independent Poisson counts is Poisson
with the summed mean: the city total per day uses the same function on the sum of the comunas' means.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson


def poisson_interval(expected: npt.ArrayLike, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central interval (low, high) of counts with Poisson means `expected` at `level` (e.g. 0.8).

    Equal tails: low is the (1 - level) / 2 quantile and high the (1 + level) / 2 quantile, so a count
    falls inside with probability at least `level` (counts are discrete: usually a little more).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    mean = np.asarray(expected, dtype="float64")
    if np.any(~np.isfinite(mean)) or np.any(mean < 0):
        raise ValueError("expected counts must be finite and >= 0")
    tail = (1 - level) / 2
    low = poisson.ppf(tail, mean)
    high = poisson.ppf(1 - tail, mean)
    # A zero mean is the point mass at 0; scipy agrees, this keeps it explicit and integer.
    low = np.where(mean == 0, 0, low).astype("int64")
    high = np.where(mean == 0, 0, high).astype("int64")
    return low, high
