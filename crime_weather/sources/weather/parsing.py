"""Weather files mapped to one daily series per source in them, values outside physical bounds dropped and counted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from crime_weather.core.names import WEATHER_BOUNDS
from crime_weather.sources.files import LandingFileError, RawFile
from crime_weather.sources.weather.layouts import (
    WEATHER_LAYOUTS,
    expected_weather_layouts,
    open_meteo,
    strip_unit,
    weather_layout,
)
from crime_weather.sources.weather.values import SourceSeries

# Open-Meteo exports further than this from the city centre are refused: they are not its weather.
CITY_LATITUDE, CITY_LONGITUDE = -34.61, -58.44
MAX_DISTANCE_DEGREES = 0.5


@dataclass
class WeatherParse:
    layout: str
    series: list[SourceSeries]
    rows_read: int
    out_of_range: dict[str, int] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        keys: set[str] = set()
        for series in self.series:
            keys.update(series.frame.index.strftime("%Y-%m"))
        return sorted(keys)

    @property
    def days(self) -> pd.DatetimeIndex:
        """Every day with at least one value, in any series."""
        days = pd.DatetimeIndex([], name="date")
        for series in self.series:
            days = days.union(series.frame.index)
        return days


def _check_location(name: str, latitude: float | None, longitude: float | None) -> None:
    if latitude is None or longitude is None:
        return
    if math.hypot(latitude - CITY_LATITUDE, longitude - CITY_LONGITUDE) > MAX_DISTANCE_DEGREES:
        raise LandingFileError(
            name,
            f"is weather for ({latitude}, {longitude}), not Buenos Aires "
            f"(expected within {MAX_DISTANCE_DEGREES}° of {CITY_LATITUDE}, {CITY_LONGITUDE})",
        )


def _bounded(series: list[SourceSeries]) -> dict[str, int]:
    """Values outside physical bounds become NaN; returns how many per field."""
    dropped: dict[str, int] = {}
    for item in series:
        for column in item.frame.columns:
            low, high = WEATHER_BOUNDS[column]
            values = item.frame[column]
            outside = values.notna() & ~values.between(low, high)
            if outside.any():
                dropped[column] = dropped.get(column, 0) + int(outside.sum())
                item.frame[column] = values.mask(outside)
    return dropped


def parse_weather(raw: RawFile) -> WeatherParse:
    """Map a weather file to one daily series per source in it."""
    layout_name = weather_layout(raw)
    if layout_name is None:
        raise LandingFileError(
            raw.name,
            f"is not a known weather layout (columns: {', '.join(raw.columns)}); "
            f"expected one of: {expected_weather_layouts()}",
        )
    if layout_name == "open_meteo_daily_json":
        data = raw.json_data
        _check_location(raw.name, data.get("latitude"), data.get("longitude"))
        frame = pd.DataFrame(
            {key: pd.Series(values, dtype="object") for key, values in data["daily"].items()}
        )
        frame.attrs["units"] = data.get("daily_units", {})
        series = [SourceSeries("open-meteo", open_meteo(frame, frame.attrs["units"]))]
        rows = len(frame)
    else:
        layout = next(layout for layout in WEATHER_LAYOUTS if layout.name == layout_name)
        table, _ = raw.read(raw.columns)
        frame = table.to_pandas()
        if layout_name == "open_meteo_daily_csv":
            _check_location(raw.name, *_open_meteo_preamble(raw))
            names = dict(strip_unit(column) for column in frame.columns)
            frame = frame.rename(columns={column: strip_unit(column)[0] for column in frame.columns})
            frame.attrs["units"] = names
        series = layout.parse(frame)
        rows = len(frame)
    series = [item for item in series if not item.frame.empty]
    return WeatherParse(layout_name, series, rows, _bounded(series))


def _open_meteo_preamble(raw: RawFile) -> tuple[float | None, float | None]:
    if not raw.skip_rows:
        return None, None
    lines = raw.payload[:4096].decode("utf-8", "replace").splitlines()
    header = [part.strip().lower() for part in lines[0].split(",")]
    values = lines[1].split(",")
    try:
        return float(values[header.index("latitude")]), float(values[header.index("longitude")])
    except (ValueError, IndexError):
        return None, None
