"""Prediction intervals for a count from its expected value, and how often they cover.

Poisson quantile intervals, inclusive at both ends. On the backtest they cover at their nominal rates
(model study: 80 % -> 0.801, 95 % -> 0.949): the discreteness of the counts makes inclusive intervals
conservative, which cancels the mild overdispersion (Pearson chi2/df 1.21). Coverage is measured on
every backtest, per fold, so a drift away from nominal shows.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

LEVELS = (0.8, 0.95)


def poisson_interval(expected: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central `level` interval of Poisson(expected): counts lo..hi, both included."""
    tail = (1 - level) / 2
    expected = np.asarray(expected, dtype="float64")
    return poisson.ppf(tail, expected), poisson.ppf(1 - tail, expected)


def coverage(observed: np.ndarray, expected: np.ndarray, level: float) -> float:
    """Share of observed counts inside their `level` interval."""
    low, high = poisson_interval(expected, level)
    observed = np.asarray(observed, dtype="float64")
    return float(np.mean((observed >= low) & (observed <= high)))
