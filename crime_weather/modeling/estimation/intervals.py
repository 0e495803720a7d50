"""Prediction intervals of a count from the model's count distribution (Poisson), and how often they cover.

Poisson quantile intervals, inclusive at both ends. On the backtest they cover at their nominal rates
(model study: 80 % -> 0.801, 95 % -> 0.949): the discreteness of the counts makes inclusive intervals
conservative, which cancels the mild overdispersion (Pearson chi2/df 1.21), so no dispersion parameter
is added. Coverage is measured on every backtest, per fold, so a drift away from nominal shows. A sum
of independent Poisson counts is Poisson with the summed mean: the city total per day uses the same
function on the sum of the comunas' means.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri, pdtr
from scipy.stats import poisson

LEVELS = (0.8, 0.95)


def poisson_quantile(mean: np.ndarray, probability: float) -> np.ndarray:
    """The smallest count k with P(X <= k) >= `probability` for X ~ Poisson(mean): scipy's
    `poisson.ppf`, exactly, at a fraction of its cost (it runs on every API prediction).

    Starts from the Cornish-Fisher approximation and steps to the exact quantile with the Poisson
    CDF (`pdtr`); from that start every mean takes at most a couple of steps.
    """
    z = float(ndtri(probability))
    k = np.maximum(np.floor(mean + z * np.sqrt(mean) + (z * z - 1) / 6), 0.0)
    for _ in range(64):
        up = pdtr(k, mean) < probability
        down = (k > 0) & (pdtr(k - 1, mean) >= probability)
        if not (up.any() or down.any()):
            return k
        k = k + up - down
    return poisson.ppf(probability, mean)  # never reached for finite means; kept exact regardless


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
    low = poisson_quantile(mean, tail).astype("int64")
    high = poisson_quantile(mean, 1 - tail).astype("int64")
    return low, high


def coverage(observed: npt.ArrayLike, expected: npt.ArrayLike, level: float) -> float:
    """Share of observed counts inside their `level` interval."""
    low, high = poisson_interval(expected, level)
    observed = np.asarray(observed, dtype="float64")
    return float(np.mean((observed >= low) & (observed <= high)))
