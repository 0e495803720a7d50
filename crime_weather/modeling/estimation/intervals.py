"""Prediction intervals of a count from the model's count distribution, and how often they cover.

Quantile intervals, inclusive at both ends, of a negative binomial with mean mu and variance
mu + alpha mu^2 (alpha = 0: Poisson). alpha is the pipeline's per month horizon (features.horizon):
at h = 1 Poisson intervals already cover at their nominal rates (the discreteness of the counts
makes inclusive intervals conservative, which cancels the mild overdispersion), but a level frozen
months ago is itself uncertain, so later horizons need wider intervals; alpha_h is fitted so that
they cover at nominal on months the backtest never scores (modeling.selection.calibration).
`prediction_intervals` is the one function every interval the platform gives goes through (the API,
the forecast). A sum of independent Poisson counts is Poisson with the summed mean: the city total per
day uses `poisson_interval` on the sum of the comunas' means.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import betainc, ndtri, pdtr
from scipy.stats import nbinom, poisson
from sklearn.pipeline import Pipeline

LEVELS = (0.8, 0.95)


def poisson_quantile(mean: np.ndarray, probability: float | np.ndarray) -> np.ndarray:
    """The smallest count k with P(X <= k) >= `probability` (scalar or per row) for X ~
    Poisson(mean): scipy's `poisson.ppf`, exactly, at a fraction of its cost (it runs on every API
    prediction).

    Starts from the Cornish-Fisher approximation and steps to the exact quantile with the Poisson
    CDF (`pdtr`); from that start every mean takes at most a couple of steps.
    """
    z = ndtri(probability)
    k = np.maximum(np.floor(mean + z * np.sqrt(mean) + (z * z - 1) / 6), 0.0)
    stepped = _step_to_quantile(k, probability, lambda counts, rows: pdtr(counts, mean[rows]))
    return poisson.ppf(probability, mean) if stepped is None else stepped  # None: never for finite means


def _step_to_quantile(
    start: np.ndarray, probability: float | np.ndarray, cdf: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray | None:
    """Each start stepped to the smallest count whose CDF reaches its probability; `cdf(counts,
    rows)` is P(X <= counts) of those rows. A row that did not move is settled and never evaluated
    again (most settle at the first check), so a large batch costs about two CDF passes. None when
    64 steps do not settle (never for finite means)."""
    k = start.copy()
    wanted = np.broadcast_to(np.asarray(probability, dtype="float64"), k.shape)
    rows = np.arange(len(k))
    for _ in range(64):
        counts, target = k[rows], wanted[rows]
        up = cdf(counts, rows) < target
        down = (counts > 0) & (cdf(np.maximum(counts - 1, 0), rows) >= target)
        moved = up | down
        if not moved.any():
            return k
        k[rows] = counts + up - down
        rows = rows[moved]
    return None


def _nb_cdf(k: np.ndarray, mean: np.ndarray, alpha: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """P(X <= k) (k >= 0): negative binomial where `nb`, else Poisson (alpha 0)."""
    out = np.empty(len(k))
    out[~nb] = pdtr(k[~nb], mean[~nb])
    size = 1 / alpha[nb]
    out[nb] = betainc(size, k[nb] + 1, size / (size + mean[nb]))
    return out


def count_quantile(mean: np.ndarray, alpha: np.ndarray, probability: float | np.ndarray) -> np.ndarray:
    """The smallest count k with P(X <= k) >= `probability` (scalar or per row) for X ~ NB(mean,
    alpha) (Poisson where alpha is 0): `poisson_quantile` generalised, the same Cornish-Fisher start
    and exact steps."""
    alpha = np.broadcast_to(np.asarray(alpha, dtype="float64"), mean.shape)
    nb = alpha > 1e-9
    if not nb.any():
        return poisson_quantile(mean, probability)
    z = ndtri(probability)
    sd = np.sqrt(mean + alpha * mean * mean)
    k = np.maximum(np.floor(mean + z * sd + (z * z - 1) / 6 * (1 + 2 * alpha * mean)), 0.0)
    stepped = _step_to_quantile(
        k, probability, lambda counts, rows: _nb_cdf(counts, mean[rows], alpha[rows], nb[rows])
    )
    if stepped is not None:
        return stepped
    exact = np.where(nb, nbinom.ppf(probability, 1 / np.where(nb, alpha, 1), 1 / (1 + alpha * mean)), 0)
    return np.where(nb, exact, poisson.ppf(probability, mean))  # never reached for finite means


def count_interval(
    expected: npt.ArrayLike, level: float, dispersion: npt.ArrayLike = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Central interval (low, high) at `level` of counts with means `expected` and NB dispersion
    `dispersion` (scalar or per row; 0: Poisson), equal tails as `poisson_interval`."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    mean = _valid_means(expected)
    alpha = np.broadcast_to(np.asarray(dispersion, dtype="float64"), mean.shape)
    tail = (1 - level) / 2
    low = count_quantile(mean, alpha, tail).astype("int64")
    high = count_quantile(mean, alpha, 1 - tail).astype("int64")
    return low, high


def prediction_intervals(
    pipeline: Pipeline | object, inputs: pd.DataFrame, expected: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(low 80 %, high 80 %, low 95 %, high 95 %) of each row of `inputs` (the model's raw inputs)
    whose expected count is `expected`, with the fitted pipeline's dispersion at the row's horizon
    (Poisson for a model without one, e.g. anything that only has `predict`).

    The four quantiles of every row are found in one pass over four stacked copies of the rows (the
    same values as `count_interval` at each level): for the API's micro-batches the per-call cost of
    numpy, not the arithmetic, is what a pass costs.
    """
    features = getattr(pipeline, "named_steps", {}).get("features")
    alpha = features.dispersion(inputs) if hasattr(features, "dispersion") else 0.0
    mean = _valid_means(expected)
    bounds = [p for level in LEVELS for p in ((1 - level) / 2, 1 - (1 - level) / 2)]  # as count_interval's
    alpha = np.broadcast_to(np.asarray(alpha, dtype="float64"), mean.shape)
    quantiles = count_quantile(
        np.tile(mean, len(bounds)), np.tile(alpha, len(bounds)), np.repeat(bounds, len(mean))
    )
    low_80, high_80, low_95, high_95 = quantiles.astype("int64").reshape(len(bounds), len(mean))
    return low_80, high_80, low_95, high_95


def _valid_means(expected: npt.ArrayLike) -> np.ndarray:
    mean = np.asarray(expected, dtype="float64")
    if np.any(~np.isfinite(mean)) or np.any(mean < 0):
        raise ValueError("expected counts must be finite and >= 0")
    return mean


def poisson_interval(expected: npt.ArrayLike, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central interval (low, high) of counts with Poisson means `expected` at `level` (e.g. 0.8).

    Equal tails: low is the (1 - level) / 2 quantile and high the (1 + level) / 2 quantile, so a count
    falls inside with probability at least `level` (counts are discrete: usually a little more).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    mean = _valid_means(expected)
    tail = (1 - level) / 2
    low = poisson_quantile(mean, tail).astype("int64")
    high = poisson_quantile(mean, 1 - tail).astype("int64")
    return low, high


def covered(
    observed: npt.ArrayLike, expected: npt.ArrayLike, level: float, dispersion: npt.ArrayLike = 0.0
) -> np.ndarray:
    """Whether each observed count lies inside its `level` interval (NB `dispersion`; 0: Poisson)."""
    low, high = count_interval(expected, level, dispersion)
    observed = np.asarray(observed, dtype="float64")
    return (observed >= low) & (observed <= high)


def coverage(
    observed: npt.ArrayLike, expected: npt.ArrayLike, level: float, dispersion: npt.ArrayLike = 0.0
) -> float:
    """Share of observed counts inside their `level` interval (NB `dispersion`; 0: Poisson)."""
    return float(np.mean(covered(observed, expected, level, dispersion)))
