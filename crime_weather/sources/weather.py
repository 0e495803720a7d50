"""Weather files: each source's layout, units and date conventions mapped to canonical daily values.

Sources complement each other (README, "Weather from several sources"): `combine_weather` fills each variable of each day from
the highest-priority source that has it and records which source filled what.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crime_weather.core.names import WEATHER_BOUNDS, WEATHER_FIELDS
from crime_weather.sources.files import LandingFileError, RawFile

# Open-Meteo exports further than this from the city centre are refused: they are not its weather.
CITY_LATITUDE, CITY_LONGITUDE = -34.61, -58.44
MAX_DISTANCE_DEGREES = 0.5


@dataclass
class SourceSeries:
    """Daily canonical weather from one source (a station or a product) of one file."""

    source: str
    frame: pd.DataFrame  # index "date" (unique days); columns: a subset of WEATHER_FIELDS


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


Columns = dict[str, pd.Series]


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip()


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """Decimal comma or point; "S/D", "SD" and other text become NaN."""
    text = _text(frame, column).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _iso_dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(_text(frame, column).str[:10], format="%Y-%m-%d", errors="coerce")


def _daily(dates: pd.Series, values: Columns) -> pd.DataFrame:
    """One row per valid date (the first when a date repeats), canonical columns only."""
    frame = pd.DataFrame({name: series.to_numpy() for name, series in values.items()})
    frame.index = pd.DatetimeIndex(dates.to_numpy(), name="date")
    frame = frame[frame.index.notna()].dropna(how="all")
    return frame[~frame.index.duplicated(keep="first")].sort_index()


def _per_station(
    frame: pd.DataFrame,
    station_column: str | None,
    prefix: str,
    build: Callable[[pd.DataFrame], pd.DataFrame],
) -> list[SourceSeries]:
    if station_column is None or station_column not in frame:
        return [SourceSeries(prefix, build(frame))]
    stations = _text(frame, station_column).fillna("unknown")
    return [
        SourceSeries(f"{prefix}:{station}", build(part))
        for station, part in frame.groupby(stations, sort=True)
    ]


def relative_humidity(temp_c: pd.Series, dew_point_c: pd.Series) -> pd.Series:
    """Relative humidity (%) from temperature and dew point (Magnus formula, Alduchov & Eskridge 1996)."""
    a, b = 17.625, 243.04
    return 100 * np.exp(a * dew_point_c / (b + dew_point_c)) / np.exp(a * temp_c / (b + temp_c))


# --- the layouts -------------------------------------------------------------------------------


def _smn_daily(frame: pd.DataFrame) -> pd.DataFrame:
    """SMN daily station data (TMAX, TMIN, TMEDIA, PRECIP, ...)."""
    # SMN's data dictionary: an empty PRECIP cell is a day without rain, i.e. 0 mm.
    precipitation = _numbers(frame, "precip").where(_text(frame, "precip").notna(), 0.0)
    return _daily(
        _iso_dates(frame, "fecha"),
        {
            "temp_mean": _numbers(frame, "tmedia"),
            "temp_min": _numbers(frame, "tmin"),
            "temp_max": _numbers(frame, "tmax"),
            "precipitation_mm": precipitation,
            "humidity_pct": _numbers(frame, "hum_rel"),
            "wind_speed_kmh": _numbers(frame, "vel_med"),
            # Station-level pressure; the city's stations stand within 25 m of sea level (< 3 hPa).
            "pressure_hpa": _numbers(frame, "pre_est"),
        },
    )


def _smn_hourly_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily means of SMN hourly observations (Y, M, D, pp24, T, V_mag, Td)."""
    dates = pd.to_datetime(
        {"year": _numbers(frame, "y"), "month": _numbers(frame, "m"), "day": _numbers(frame, "d")},
        errors="coerce",
    )
    temperature = _numbers(frame, "t")
    return _daily(
        dates,
        {
            "temp_mean": temperature,
            "precipitation_mm": _numbers(frame, "pp24"),
            # Mean RH of the day from its mean temperature and dew point: close, not exact.
            "humidity_pct": relative_humidity(temperature, _numbers(frame, "td")).clip(upper=100),
            "wind_speed_kmh": _numbers(frame, "v_mag"),  # SMN reports wind in km/h
        },
    )


def _ghcnd(frame: pd.DataFrame) -> pd.DataFrame:
    """NOAA GHCN-Daily (CDO export, metric units).

    GHCN-Daily dates the 24-hour elements (TMAX, PRCP) one day later than SMN does: they move back
    one day so every source follows SMN's convention. A missing PRCP is unknown (GHCN-Daily omits
    many dry days), never 0.
    """
    dates = _iso_dates(frame, "date")
    same_day = _daily(dates, {"temp_mean": _numbers(frame, "tavg"), "temp_min": _numbers(frame, "tmin")})
    previous_day = _daily(
        dates - pd.Timedelta(days=1),
        {"temp_max": _numbers(frame, "tmax"), "precipitation_mm": _numbers(frame, "prcp")},
    )
    return same_day.join(previous_day, how="outer").dropna(how="all")


def _cammesa(frame: pd.DataFrame) -> pd.DataFrame:
    """CAMMESA daily regional mean temperature; only Gran Buenos Aires (GBA) is the city's."""
    in_city = _text(frame, "region").str.upper() == "GBA"
    part = frame[in_city.fillna(False).to_numpy()]
    return _daily(_iso_dates(part, "fecha"), {"temp_mean": _numbers(part, "tmed")})


_OPEN_METEO = {
    "temperature_2m_mean": "temp_mean",
    "temperature_2m_min": "temp_min",
    "temperature_2m_max": "temp_max",
    "precipitation_sum": "precipitation_mm",
    "relative_humidity_2m_mean": "humidity_pct",
    "wind_speed_10m_mean": "wind_speed_kmh",
    "pressure_msl_mean": "pressure_hpa",
}
_UNIT_FACTORS = {"m/s": (3.6, 0.0), "mph": (1.609344, 0.0), "kn": (1.852, 0.0), "inch": (25.4, 0.0)}


def _to_canonical_unit(values: pd.Series, unit: str) -> pd.Series:
    unit = unit.strip().lower()
    if unit in ("°f", "degf"):
        return (values - 32) * 5 / 9
    factor, offset = _UNIT_FACTORS.get(unit, (1.0, 0.0))
    return values * factor + offset


def _open_meteo(frame: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    values = {
        canonical: _to_canonical_unit(_numbers(frame, variable), units.get(variable, ""))
        for variable, canonical in _OPEN_METEO.items()
        if variable in frame
    }
    return _daily(_iso_dates(frame, "time"), values)


def _check_location(name: str, latitude: float | None, longitude: float | None) -> None:
    if latitude is None or longitude is None:
        return
    if math.hypot(latitude - CITY_LATITUDE, longitude - CITY_LONGITUDE) > MAX_DISTANCE_DEGREES:
        raise LandingFileError(
            name,
            f"is weather for ({latitude}, {longitude}), not Buenos Aires "
            f"(expected within {MAX_DISTANCE_DEGREES}° of {CITY_LATITUDE}, {CITY_LONGITUDE})",
        )


@dataclass(frozen=True)
class WeatherLayout:
    name: str
    required: frozenset[str]
    parse: Callable[[pd.DataFrame], list[SourceSeries]]


WEATHER_LAYOUTS: tuple[WeatherLayout, ...] = (
    WeatherLayout(
        "smn_daily",
        frozenset({"fecha", "tmax", "tmin", "tmedia", "precip"}),
        lambda frame: _per_station(
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
        lambda frame: _per_station(frame, "station", "ghcnd", _ghcnd),
    ),
    WeatherLayout(
        "cammesa_regional_mean",
        frozenset({"fecha", "tmed", "region"}),
        lambda frame: [SourceSeries("cammesa:GBA", _cammesa(frame))],
    ),
    WeatherLayout(
        "open_meteo_daily_csv",
        frozenset({"time"}),
        lambda frame: [SourceSeries("open-meteo", _open_meteo(frame, frame.attrs.get("units", {})))],
    ),
)

# Known tables without daily data: recognised, reported as skipped.
MONTHLY_LAYOUTS = (
    frozenset({"anio", "mes", "media"}),  # DGEyC monthly temperature
    frozenset({"anio", "mes", "mm"}),  # DGEyC monthly precipitation
)


def _strip_unit(column: str) -> tuple[str, str]:
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
    columns = {_strip_unit(column)[0] for column in raw.columns}
    for layout in WEATHER_LAYOUTS:
        if layout.required <= columns and (
            layout.name != "open_meteo_daily_csv" or columns & set(_OPEN_METEO)
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
        series = [SourceSeries("open-meteo", _open_meteo(frame, frame.attrs["units"]))]
        rows = len(frame)
    else:
        layout = next(layout for layout in WEATHER_LAYOUTS if layout.name == layout_name)
        table, _ = raw.read(raw.columns)
        frame = table.to_pandas()
        if layout_name == "open_meteo_daily_csv":
            _check_location(raw.name, *_open_meteo_preamble(raw))
            names = dict(_strip_unit(column) for column in frame.columns)
            frame = frame.rename(columns={column: _strip_unit(column)[0] for column in frame.columns})
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
