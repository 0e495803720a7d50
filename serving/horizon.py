"""How far from its data the champion is asked to speak, and the refusal when it is too far (422).

`data_through` is the champion's last day of crime data; `horizon_days` = date - data_through
(modeling/forecasting/horizon.py defines them for the whole platform). A date before the first day of
data, or more than `max_horizon_days` after data_through (the longest horizon the backtest validated),
is refused: no number without evidence. Vectorised over a batch: one numpy pass, no per-row Python.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

from crime_weather.modeling.forecasting.horizon import data_through
from serving.errors import Refused
from serving.structs.responses import FieldProblem

_LISTED = 5  # offending rows named in `detail`; `errors` names them all


@dataclass(frozen=True)
class DataWindow:
    """The champion's data: its first day and its last (`data_through`), as numpy days."""

    first_day: np.datetime64
    data_through: np.datetime64

    @classmethod
    def of(cls, pipeline: Pipeline) -> DataWindow:
        first = pipeline.named_steps["features"].history_start
        return cls(np.datetime64(first, "D"), np.datetime64(data_through(pipeline).date(), "D"))

    def horizons(self, days: np.ndarray) -> np.ndarray:
        """horizon_days of each day (datetime64[D]): negative inside the history, 1 the day after."""
        return (days - self.data_through).astype("int64")

    def through(self) -> datetime.date:
        return self.data_through.astype(datetime.date)


def as_days(dates: Sequence[datetime.date]) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]")


def _reason(window: DataWindow, day: np.datetime64, horizon: int, max_days: int) -> str:
    if day < window.first_day:
        return f"{day} is before the model's first day of data ({window.first_day})"
    return (
        f"{day} is {horizon} days after the model's data end (data_through {window.data_through}); "
        f"counts are claimed at most {max_days} days ahead, the horizon the backtest validated"
    )


def check_horizon(
    window: DataWindow, days: np.ndarray, max_days: int, field: Callable[[int], str]
) -> np.ndarray:
    """horizon_days of `days`, or 422 naming every day outside [first day, data_through + max_days]
    (`field(i)` names row i's date field)."""
    horizons = window.horizons(days)
    outside = np.flatnonzero((days < window.first_day) | (horizons > max_days))
    if outside.size == 0:
        return horizons
    problems = [
        FieldProblem(field(i), _reason(window, days[i], int(horizons[i]), max_days)) for i in outside.tolist()
    ]
    listed = "; ".join(f"`{p.field}`: {p.reason}" for p in problems[:_LISTED])
    more = f"; and {len(problems) - _LISTED} more (see `errors`)" if len(problems) > _LISTED else ""
    detail = f"{len(problems)} date(s) outside the model's evidence: {listed}{more}"
    first = problems[0]
    raise Refused(422, detail, first.field, first.reason, errors=problems)
