"""The model's feature matrix: which terms of the vocabulary (tables/terms.py), in which order.

The order is written once, here: LevelFeatures stacks its columns by these names and the estimators
select theirs by name (`Layout.take`), so no one reads a column by a number it has to know.
A matrix carries no names (numpy, for serving's speed): its layout is told by its width, the only
thing that differs between the layouts (with or without weather).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crime_weather.tables.terms import (
    COMUNA,
    DAY_OF_YEAR,
    HISTORY_DAYS,
    IS_HOLIDAY,
    LEVEL,
    LOG1P_RAIN,
    RAIN_DAY,
    TEMP_ANOMALY,
    TEMP_MEAN,
    WEEKDAY,
)

OFFSET_TERMS = (LEVEL, HISTORY_DAYS)  # taken off by OffsetRegressor: the offset and its support
CALENDAR_TERMS = (COMUNA, WEEKDAY, IS_HOLIDAY, DAY_OF_YEAR)
WEATHER_TERMS = (RAIN_DAY, LOG1P_RAIN, TEMP_MEAN, TEMP_ANOMALY)


@dataclass(frozen=True)
class Layout:
    """The names of a matrix's columns, in order."""

    names: tuple[str, ...]

    def index(self, name: str) -> int:
        return self.names.index(name)

    def column(self, matrix: np.ndarray, name: str) -> np.ndarray:
        """One column, 1-D."""
        return matrix[:, self.index(name)]

    def take(self, matrix: np.ndarray, *names: str) -> np.ndarray:
        """Columns by name, in the order asked, 2-D."""
        return matrix[:, [self.index(name) for name in names]]

    def __contains__(self, name: object) -> bool:
        return name in self.names


def rate_layout(weather: bool) -> Layout:
    """What the estimator behind the offset sees: the calendar, then the weather if any."""
    return Layout((*CALENDAR_TERMS, *(WEATHER_TERMS if weather else ())))


def feature_layout(weather: bool) -> Layout:
    """What LevelFeatures gives: the offset terms first (OffsetRegressor slices them off), then the rest."""
    return Layout((*OFFSET_TERMS, *rate_layout(weather).names))


def layout_of(matrix: np.ndarray, layouts: tuple[Layout, Layout]) -> Layout:
    """The one of `layouts` (without and with weather) as wide as `matrix`."""
    for layout in layouts:
        if matrix.shape[1] == len(layout.names):
            return layout
    widths = " or ".join(str(len(layout.names)) for layout in layouts)
    raise ValueError(f"a feature matrix of {matrix.shape[1]} columns: expected {widths}")


def rate_layout_of(matrix: np.ndarray) -> Layout:
    return layout_of(matrix, (rate_layout(False), rate_layout(True)))


def feature_layout_of(matrix: np.ndarray) -> Layout:
    return layout_of(matrix, (feature_layout(False), feature_layout(True)))


def rate_part(features: np.ndarray) -> np.ndarray:
    """The features without the offset terms (a view: they come first)."""
    return features[:, len(OFFSET_TERMS) :]
