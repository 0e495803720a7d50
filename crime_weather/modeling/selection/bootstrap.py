"""Paired differences with 95 % confidence intervals that resample whole folds (months).

Two predictions of the same rows are compared by their Poisson deviance; the statistic is the mean over
folds of each fold's mean difference per comuna-day, the same average as the backtest's headline.

The unit resampled is the fold, not the day. What makes one model beat another in one month (a level
that moved, a holiday, a heat wave) is shared by all of that month's days, so days of one month are not
independent evidence: resampling days within folds (`day_block_difference`, kept for comparison) sees
only the noise inside each month and gives intervals a third as wide as the months support. Folds are
resampled in circular blocks of consecutive months (neighbouring months share a level), and the
percentile interval is widened by the small-sample factor sqrt(n / (n - 1)) * t(n - 1) / z: a bootstrap
of n values is too narrow by about that much (for normal fold means the result is the t interval).
With one fold there is nothing to resample: the interval is unbounded, so no claim can be made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from crime_weather.core.names import TARGET
from crime_weather.modeling.estimation.metrics import unit_deviance

RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    """a - b in mean Poisson deviance per comuna-day: negative means a predicts better."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.high < 0 or self.low > 0

    def __str__(self) -> str:
        return f"{self.estimate:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def row_differences(frame: pd.DataFrame, a: str, b: str) -> np.ndarray:
    return unit_deviance(frame[TARGET], frame[a]) - unit_deviance(frame[TARGET], frame[b])


def fold_differences(frame: pd.DataFrame, a: str, b: str) -> pd.Series:
    """Per fold (column `month`, in order): the mean deviance difference a - b per comuna-day."""
    difference = pd.Series(row_differences(frame, a, b), index=frame.index)
    return difference.groupby(frame["month"].to_numpy()).mean().sort_index()


def block_length(folds: int) -> int:
    """About n^(1/3) consecutive folds per block: 2 for 4 to 15 folds."""
    return max(1, round(folds ** (1 / 3)))


def small_sample_factor(folds: int) -> float:
    """How much wider than its bootstrap percentile interval the interval of a mean of n values is."""
    return math.sqrt(folds / (folds - 1)) * t.ppf((1 + LEVEL) / 2, folds - 1) / norm.ppf((1 + LEVEL) / 2)


@dataclass(frozen=True)
class Ratio:
    """A ratio of sums over folds (predicted / observed, the share of counts an interval covers)
    with its 95 % CI, folds resampled as for a Difference."""

    estimate: float
    low: float
    high: float

    def misses(self, low: float, high: float) -> bool:
        """Whether the CI lies entirely outside [low, high]: a miss beyond the noise of the folds."""
        return self.high < low or self.low > high

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


def block_picks(n: int, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Indices of `resamples` circular block bootstrap samples of n folds (each n long)."""
    length = block_length(n)
    starts = rng.integers(0, n, size=(resamples, math.ceil(n / length)))
    picks = (starts[:, :, None] + np.arange(length)) % n
    return picks.reshape(resamples, -1)[:, :n]


def block_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Means of `resamples` circular block bootstrap samples of `values` (each as long as `values`)."""
    return values[block_picks(len(values), rng, resamples)].mean(axis=1)


def _widened(estimate: float, samples: np.ndarray, folds: int) -> tuple[float, float]:
    """The percentile interval of `samples` around `estimate`, widened for `folds` folds."""
    low, high = np.quantile(samples, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    widen = small_sample_factor(folds)
    return float(estimate - widen * (estimate - low)), float(estimate + widen * (high - estimate))


def fold_interval(values: np.ndarray, *, seed: int, resamples: int = RESAMPLES) -> Difference:
    """The mean of per-fold values (in time order) with its 95 % fold-block bootstrap CI."""
    values = np.asarray(values, dtype="float64")
    estimate = float(values.mean())
    if len(values) < 2:
        return Difference(estimate, -math.inf, math.inf)
    means = block_means(values, np.random.default_rng(seed), resamples)
    return Difference(estimate, *_widened(estimate, means, len(values)))


def fold_ratio(
    numerators: np.ndarray,
    denominators: np.ndarray,
    *,
    seed: int,
    resamples: int = RESAMPLES,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Ratio:
    """sum(numerators) / sum(denominators) of per-fold sums (in time order) with its 95 % CI: whole
    folds resampled in blocks, so a month whose level was missed moves the ratio as one unit. The CI
    is clipped to `bounds` (a share lies in [0, 1]: widening must not take it out)."""
    top, bottom = np.asarray(numerators, dtype="float64"), np.asarray(denominators, dtype="float64")
    estimate = float(top.sum() / bottom.sum()) if bottom.sum() else math.nan
    low, high = -math.inf, math.inf
    if len(top) >= 2 and math.isfinite(estimate):
        picks = block_picks(len(top), np.random.default_rng(seed), resamples)
        sums = bottom[picks].sum(axis=1)
        low, high = _widened(estimate, top[picks].sum(axis=1)[sums > 0] / sums[sums > 0], len(top))
    return Ratio(estimate, max(low, bounds[0]), min(high, bounds[1]))


def paired_difference(
    frame: pd.DataFrame, a: str, b: str, *, seed: int, resamples: int = RESAMPLES
) -> Difference:
    """Mean deviance of column `a` minus column `b` over the rows of `frame` (columns month,
    robberies, a, b), with a 95 % CI that resamples whole folds (seeded: the same data gives the same CI)."""
    return fold_interval(fold_differences(frame, a, b).to_numpy(), seed=seed, resamples=resamples)


def day_block_difference(
    frame: pd.DataFrame, a: str, b: str, *, seed: int, resamples: int = RESAMPLES
) -> Difference:
    """The same estimate with the CI of resampling days within folds (all comunas of a day together):
    the noise inside the months only, too narrow for a claim about months to come."""
    keyed = pd.DataFrame(
        {"month": frame["month"], "date": frame["date"], "difference": row_differences(frame, a, b)}
    )
    days = keyed.groupby(["month", "date"], sort=True)["difference"].agg(["sum", "count"]).reset_index()
    rng = np.random.default_rng(seed)
    fold_means, fold_samples = [], []
    for _, fold in days.groupby("month", sort=True):
        sums, counts = fold["sum"].to_numpy(), fold["count"].to_numpy()
        picks = rng.integers(0, len(fold), size=(resamples, len(fold)))
        fold_means.append(sums.sum() / counts.sum())
        fold_samples.append(sums[picks].sum(axis=1) / counts[picks].sum(axis=1))
    low, high = np.quantile(np.mean(fold_samples, axis=0), [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Difference(float(np.mean(fold_means)), float(low), float(high))
