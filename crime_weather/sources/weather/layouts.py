"""Each weather source's layout: the columns that identify it, and how its units and date conventions map to
canonical daily values."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from crime_weather.sources.files import RawFile
from crime_weather.sources.weather.values import (
    SourceSeries,
    daily,
    iso_dates,
    numbers,
    per_station,
    relative_humidity,
    text,
    to_canonical_unit,
)


def _smn_daily(frame: pd.DataFrame) -> pd.DataFrame:
    """SMN daily station data (TMAX, TMIN, TMEDIA, PRECIP, ...)."""
    # SMN's data dictionary: an empty PRECIP cell is a day without rain, i.e. 0 mm.
    precipitation = numbers(frame, "precip").where(text(frame, "precip").notna(), 0.0)
    return daily(
        iso_dates(frame, "fecha"),
        {
            "temp_mean": numbers(frame, "tmedia"),
            "temp_min": numbers(frame, "tmin"),
            "temp_max": numbers(frame, "tmax"),
            "precipitation_mm": precipitation,
            "humidity_pct": numbers(frame, "hum_rel"),
            "wind_speed_kmh": numbers(frame, "vel_med"),
            # Station-level pressure; the city's stations stand within 25 m of sea level (< 3 hPa).
            "pressure_hpa": numbers(frame, "pre_est"),
        },
    )


def _smn_hourly_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily means of SMN hourly observations (Y, M, D, pp24, T, V_mag, Td)."""
    dates = pd.to_datetime(
        {"year": numbers(frame, "y"), "month": numbers(frame, "m"), "day": numbers(frame, "d")},
        errors="coerce",
    )
    temperature = numbers(frame, "t")
    return daily(
        dates,
        {
            "temp_mean": temperature,
            "precipitation_mm": numbers(frame, "pp24"),
            # Mean RH of the day from its mean temperature and dew point: close, not exact.
            "humidity_pct": relative_humidity(temperature, numbers(frame, "td")).clip(upper=100),
            "wind_speed_kmh": numbers(frame, "v_mag"),  # SMN reports wind in km/h
        },
    )


def _ghcnd(frame: pd.DataFrame) -> pd.DataFrame:
    """NOAA GHCN-Daily (CDO export, metric units).

    GHCN-Daily dates the 24-hour elements (TMAX, PRCP) one day later than SMN does: they move back
    one day so every source follows SMN's convention. A missing PRCP is unknown (GHCN-Daily omits
    many dry days), never 0.
    """
    dates = iso_dates(frame, "date")
    same_day = daily(dates, {"temp_mean": numbers(frame, "tavg"), "temp_min": numbers(frame, "tmin")})
    previous_day = daily(
        dates - pd.Timedelta(days=1),
        {"temp_max": numbers(frame, "tmax"), "precipitation_mm": numbers(frame, "prcp")},
    )
    return same_day.join(previous_day, how="outer").dropna(how="all")


def _cammesa(frame: pd.DataFrame) -> pd.DataFrame:
    """CAMMESA daily regional mean temperature; only Gran Buenos Aires (GBA) is the city's."""
    in_city = text(frame, "region").str.upper() == "GBA"
    part = frame[in_city.fillna(False).to_numpy()]
    return daily(iso_dates(part, "fecha"), {"temp_mean": numbers(part, "tmed")})


OPEN_METEO = {
    "temperature_2m_mean": "temp_mean",
    "temperature_2m_min": "temp_min",
    "temperature_2m_max": "temp_max",
    "precipitation_sum": "precipitation_mm",
    "relative_humidity_2m_mean": "humidity_pct",
    "wind_speed_10m_mean": "wind_speed_kmh",
    "pressure_msl_mean": "pressure_hpa",
}


def open_meteo(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """Open-Meteo daily variables (JSON or CSV export) in canonical units."""
    values = {
        canonical: to_canonical_unit(numbers(frame, variable), units.get(variable, ""))
        for variable, canonical in OPEN_METEO.items()
        if variable in frame
    }
    return daily(iso_dates(frame, "time"), values)


@dataclass(frozen=True)
class WeatherLayout:
    name: str
    required: frozenset[str]
    parse: Callable[[pd.DataFrame], list[SourceSeries]]


WEATHER_LAYOUTS: tuple[WeatherLayout, ...] = (
    WeatherLayout(
        "smn_daily",
        frozenset({"fecha", "tmax", "tmin", "tmedia", "precip"}),
        lambda frame: per_station(
            frame, "estacion_smn" if "estacion_smn" in frame else "estacion", "smn-daily", _smn_daily
        ),
    ),
    WeatherLayout(
        "smn_hourly_means",
        frozenset({"y", "m", "d", "pp24", "t", "td"}),
        lambda frame: [SourceSeries("smn-hourly-means", _smn_hourly_means(frame))],
    ),
    WeatherLayout(
        "ghcnd_daily",
        frozenset({"station", "date", "tavg"}),
        lambda frame: per_station(frame, "station", "ghcnd", _ghcnd),
    ),
    WeatherLayout(
        "cammesa_regional_mean",
        frozenset({"fecha", "tmed", "region"}),
        lambda frame: [SourceSeries("cammesa:GBA", _cammesa(frame))],
    ),
    WeatherLayout(
        "open_meteo_daily_csv",
        frozenset({"time"}),
        lambda frame: [SourceSeries("open-meteo", open_meteo(frame, frame.attrs.get("units", {})))],
    ),
)

# Known tables without daily data: recognised, reported as skipped.
MONTHLY_LAYOUTS = (
    frozenset({"anio", "mes", "media"}),  # DGEyC monthly temperature
    frozenset({"anio", "mes", "mm"}),  # DGEyC monthly precipitation
)


def strip_unit(column: str) -> tuple[str, str]:
    """Open-Meteo CSV headers carry units: "temperature_2m_mean (°c)" -> (name, unit)."""
    match = re.fullmatch(r"(.+?)\s*\((.*)\)", column)
    return (match.group(1), match.group(2)) if match else (column, "")


def weather_layout(raw: RawFile) -> str | None:
    """The weather layout of a file, or None when it is not weather."""
    if raw.format == "json":
        data = raw.json_data
        return (
            "open_meteo_daily_json"
            if isinstance(data, dict) and isinstance(data.get("daily"), dict)
            else None
        )
    columns = {strip_unit(column)[0] for column in raw.columns}
    for layout in WEATHER_LAYOUTS:
        if layout.required <= columns and (
            layout.name != "open_meteo_daily_csv" or columns & set(OPEN_METEO)
        ):
            return layout.name
    return None


def is_monthly_series(raw: RawFile) -> bool:
    columns = set(raw.columns)
    return (
        raw.format == "csv" and "dia" not in columns and any(layout <= columns for layout in MONTHLY_LAYOUTS)
    )


def expected_weather_layouts() -> str:
    listed = [f"{layout.name}: {', '.join(sorted(layout.required))}" for layout in WEATHER_LAYOUTS]
    return "; ".join([*listed, "open_meteo_daily_json: {daily: {time, ...}}"])
