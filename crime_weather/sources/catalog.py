"""What each landing file is: crime, weather, a weather forecast, the comunas' boundaries, skipped
(no daily data) or rejected (unreadable).

The sensor and the assets share this description, so "which file wins month M" is computed one way.
A forecast is weather by layout; it is told apart by its days (sources.forecast.is_forecast) and is
never ingested as observed weather.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crime_weather.core.storage import BlobInfo
from crime_weather.sources.boundaries import is_comuna_collection
from crime_weather.sources.crime.layouts import expected_layouts, is_crime_header, layout_of
from crime_weather.sources.crime.parsing import crime_months
from crime_weather.sources.files import LandingFileError, RawFile, open_raw
from crime_weather.sources.forecast import city_day, is_forecast
from crime_weather.sources.weather.layouts import expected_weather_layouts, is_monthly_series, weather_layout
from crime_weather.sources.weather.parsing import parse_weather

CRIME, WEATHER, FORECAST, SKIPPED, REJECTED = "crime", "weather", "forecast", "skipped", "rejected"
BOUNDARIES = "boundaries"  # the comunas' polygons (BA Data "Comunas" GeoJSON): comuna_boundaries reads it


@dataclass(frozen=True)
class LandingFile:
    """One file in the landing zone, as the platform understands it."""

    key: str
    version: str
    landed_at: float
    kind: str
    layout: str | None = None
    months: tuple[str, ...] = ()
    detail: str = ""

    @property
    def run_key(self) -> str:
        return f"{self.key}@{self.version}"


def classify(raw: RawFile) -> tuple[str, str | None, str]:
    """(kind, layout, detail) from the file's content alone."""
    if raw.format == "binary":
        return SKIPPED, None, "binary file (e.g. an R .rds): no CSV table to read"
    if raw.format == "json" and is_comuna_collection(raw.json_data):
        return BOUNDARIES, "comunas_geojson", ""
    if is_monthly_series(raw):
        return SKIPPED, "dgeyc_monthly", "monthly series: no daily data to use"
    layout = weather_layout(raw)
    if layout:
        return WEATHER, layout, ""
    if raw.format == "csv" and is_crime_header(raw.columns):
        return CRIME, None, ""
    columns = ", ".join(raw.columns) if raw.columns else "none"
    raise LandingFileError(
        raw.name,
        f"is neither a known crime nor a known weather layout (columns: {columns}). "
        f"Crime layouts: {expected_layouts()}. Weather layouts: {expected_weather_layouts()}",
    )


def describe(info: BlobInfo, data: bytes) -> LandingFile:
    """Classify a landing file and find the months it covers. Never raises: errors become REJECTED."""
    try:
        raw = open_raw(data, info.key)
        kind, layout, detail = classify(raw)
        months: Sequence[str] = ()
        if kind == CRIME:
            # Found once, here: the name travels in LandingFile.layout to the parser.
            crime_layout = layout_of(raw)
            months = crime_months(raw, layout=crime_layout)
            layout = crime_layout.name
            if not months:
                raise LandingFileError(info.key, "holds no rows with a usable date")
        elif kind == WEATHER:
            parsed = parse_weather(raw)
            months = parsed.months
            if not months:
                raise LandingFileError(info.key, "holds no days with usable weather values")
            if is_forecast(parsed.days, info.modified):
                kind, months = FORECAST, ()
                detail = (
                    f"forecast of {parsed.days[0]:%Y-%m-%d}..{parsed.days[-1]:%Y-%m-%d}, "
                    f"landed {city_day(info.modified)}"
                )
        return LandingFile(info.key, info.version, info.modified, kind, layout, tuple(months), detail)
    except LandingFileError as error:
        return LandingFile(info.key, info.version, info.modified, REJECTED, None, (), str(error))


def newest_first(files: Iterable[LandingFile]) -> list[LandingFile]:
    """Most recently landed first; ties broken by name so the order is stable."""
    return sorted(files, key=lambda file: (-file.landed_at, file.key))


def crime_winners(files: Iterable[LandingFile]) -> dict[str, LandingFile]:
    """For every month, the crime file that supplies it: the most recently landed one covering it."""
    winners: dict[str, LandingFile] = {}
    for file in newest_first(f for f in files if f.kind == CRIME):
        for month in file.months:
            winners.setdefault(month, file)
    return winners
