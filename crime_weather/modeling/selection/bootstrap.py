"""Paired differences with 95 % confidence intervals from a day-block bootstrap.

Two predictions of the same rows are compared by their Poisson deviance. Rows of one day share its
weather and whatever else happened that day, so a day is the unit resampled: all comunas of a day
move together. Days are resampled within their fold and the statistic is the mean over folds of each
fold's mean difference per comuna-day, the same average as the backtest's headline deviance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crime_weather.modeling.estimation.metrics import unit_deviance

RESAMPLES = 2000


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


def daily_differences(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Per (fold month, date): the summed deviance difference of columns a - b, and the rows."""
    difference = unit_deviance(frame["robberies"], frame[a]) - unit_deviance(frame["robberies"], frame[b])
    keyed = pd.DataFrame({"month": frame["month"], "date": frame["date"], "difference": difference})
    return keyed.groupby(["month", "date"], sort=True)["difference"].agg(["sum", "count"]).reset_index()


def paired_difference(
    frame: pd.DataFrame, a: str, b: str, *, seed: int, resamples: int = RESAMPLES
) -> Difference:
    """Mean deviance of column `a` minus column `b` over the rows of `frame` (columns month, date,
    robberies, a, b), with a 95 % day-block bootstrap CI (seeded: the same data gives the same CI)."""
    days = daily_differences(frame, a, b)
    rng = np.random.default_rng(seed)
    fold_means, fold_samples = [], []
    for _, fold in days.groupby("month", sort=True):
        sums, counts = fold["sum"].to_numpy(), fold["count"].to_numpy()
        picks = rng.integers(0, len(fold), size=(resamples, len(fold)))
        fold_means.append(sums.sum() / counts.sum())
        fold_samples.append(sums[picks].sum(axis=1) / counts[picks].sum(axis=1))
    samples = np.mean(fold_samples, axis=0)
    low, high = np.quantile(samples, [0.025, 0.975])
    return Difference(float(np.mean(fold_means)), float(low), float(high))
