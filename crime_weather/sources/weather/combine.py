"""Weather from several sources combined per day (README, "Weather from several sources").

`combine_weather` fills each variable of each day from the highest-priority source that has it and
records which source filled what.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.sources.weather.values import SourceSeries


def source_rank(source: str, priority: Sequence[str]) -> int:
    """Position of a source in the priority list; an entry matches itself and its sub-sources."""
    for rank, entry in enumerate(priority):
        if source == entry or source.startswith(entry + ":"):
            return rank
    return len(priority)


@dataclass
class CombinedWeather:
    frame: pd.DataFrame  # columns: date + WEATHER_FIELDS, one row per requested day
    sources: pd.DataFrame  # same rows and weather columns: the source that filled each value

    def filled_by(self, rows: pd.Series | None = None) -> dict[str, dict[str, int]]:
        """Per column, how many days each source filled (optionally within some rows)."""
        sources = self.sources if rows is None else self.sources[rows.to_numpy()]
        return {
            column: {k: int(v) for k, v in sources[column].value_counts().items()}
            for column in WEATHER_FIELDS
        }


def combine_weather(
    days: pd.DatetimeIndex, series: Sequence[SourceSeries], priority: Sequence[str]
) -> CombinedWeather:
    """Each value of each day from the highest-priority source that has it.

    `series` must already be ordered most recently landed first: among equal-priority sources the
    newest file wins, as with crime releases.
    """
    index = pd.DatetimeIndex(days, name="date")
    ranked = sorted(enumerate(series), key=lambda item: (source_rank(item[1].source, priority), item[0]))
    values = {name: np.full(len(index), np.nan) for name in WEATHER_FIELDS}
    sources = {name: np.full(len(index), None, dtype=object) for name in WEATHER_FIELDS}
    for _, item in ranked:
        aligned = item.frame.reindex(index)
        for column in aligned.columns:
            given = aligned[column].to_numpy(dtype="float64")
            take = np.isnan(values[column]) & ~np.isnan(given)
            values[column][take] = given[take]
            sources[column][take] = item.source
    frame = pd.DataFrame({"date": index, **values})
    return CombinedWeather(frame, pd.DataFrame(sources))
