"""Monthly rolling-origin folds: each fold is one month, trained on every month before it.

The backtest takes the last months present; the search tunes on the months just before them, so the
backtest stays an honest estimate of the configuration the search chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crime_weather.core.names import MODEL_INPUTS, TARGET
from crime_weather.core.settings import TrainingBudget

# A fold needs two months before it: the first month of any history has no level of its own (its
# rows are left out of the fit), the second is the first one to learn from.
MIN_TRAIN_MONTHS = 2


# A year of origins (every season), 7 of them reach h = 6; the setting's default, defined there once.
CALIBRATION_ORIGINS: int = TrainingBudget.model_fields["calibration_origins"].default


@dataclass(frozen=True)
class FoldPlan:
    search: list[str]
    backtest: list[str]
    calibration_origins: int = CALIBRATION_ORIGINS  # how many month starts before the backtest calibrate

    @property
    def search_overlaps_backtest(self) -> bool:
        """With too few months, the search tunes on the backtest's months: its scores are optimistic."""
        return bool(set(self.search) & set(self.backtest))


def plan_folds(
    months: list[str], backtest_folds: int, search_folds: int, calibration_origins: int = CALIBRATION_ORIGINS
) -> FoldPlan:
    """The last `backtest_folds` months (at most those with MIN_TRAIN_MONTHS before them), and the
    `search_folds` months before them; when none are left, the search uses the backtest's months.
    The calibration (modeling.selection.calibration) fits from `calibration_origins` months before
    the backtest's first."""
    months = sorted(months)
    usable = months[MIN_TRAIN_MONTHS:]
    if not usable:
        raise ValueError(
            f"{len(months)} months of data: a rolling-origin backtest needs at least {MIN_TRAIN_MONTHS + 1}"
        )
    backtest = usable[-backtest_folds:]
    before = usable[: len(usable) - len(backtest)]
    search = before[-search_folds:] or backtest[-search_folds:]
    return FoldPlan(search, backtest, calibration_origins)


class MonthlyData:
    """Every row of every month (sorted by date and comuna), split by month without copying twice."""

    def __init__(self, frame: pd.DataFrame) -> None:
        frame = frame.sort_values(["date", "comuna"], kind="stable").reset_index(drop=True)
        self.frame = frame
        self.inputs = frame[list(MODEL_INPUTS)]  # dates stay datetimes in training (the API sends strings)
        self.y = frame[TARGET].to_numpy(dtype="float64")
        self.month = frame["date"].dt.strftime("%Y-%m").to_numpy()
        self.months = sorted(set(self.month))

    def before(self, month: str) -> np.ndarray:
        return self.month < month

    def within(self, month: str) -> np.ndarray:
        return self.month == month
