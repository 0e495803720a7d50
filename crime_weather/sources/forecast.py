"""Weather forecasts: where they come from, and how a forecast file is told from observed weather.

An Open-Meteo forecast response has the layout of an archive response, so layout cannot tell them
apart. Time can: observed weather cannot describe days that had not come when the file landed.

Recognition rule (`is_forecast`): a weather file is a forecast when at least one of its days comes
after the day it landed (the city's calendar) and none comes more than `FORECAST_HORIZON_DAYS` after
it. Providers publish at most 16 days ahead (Open-Meteo's longest horizon); a file reaching further
is an archive whose timestamp was carried over from elsewhere (`cp -p`, an old download), not a
forecast. Both inputs (content, landing time) are fixed for a file version, so a forecast file never
turns into observed weather as its days pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pandas as pd

from crime_weather.core.names import WEATHER_FIELDS
from crime_weather.core.settings import OFFICIAL_SOURCE
from crime_weather.core.storage import is_visible
from crime_weather.sources.files import LandingFileError, open_raw
from crime_weather.sources.official import CITY_TIMEZONE, open_meteo_forecast_url
from crime_weather.sources.weather.combine import combine_weather
from crime_weather.sources.weather.parsing import parse_weather

FORECAST_HORIZON_DAYS = 16
NO_SOURCE = "none"


def city_day(timestamp: float) -> dt.date:
    """The city's calendar day at a Unix timestamp."""
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(CITY_TIMEZONE)).date()


def is_forecast(days: Sequence[pd.Timestamp] | pd.DatetimeIndex, landed_at: float) -> bool:
    """The recognition rule of the module docstring: some day after the landing day, none too far."""
    if len(days) == 0:
        return False
    landed = pd.Timestamp(city_day(landed_at))
    last = max(days)
    return landed < last <= landed + pd.Timedelta(days=FORECAST_HORIZON_DAYS)


class ForecastSourceError(RuntimeError):
    """The forecast source did not answer, or answered something that is not a city forecast."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"forecast source {source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class WeatherForecast:
    """Daily forecast weather: `frame` has `date` and the canonical weather columns, one row a day."""

    source: str  # what a reader needs to find it again: the API's URL, a file's path or landing key
    frame: pd.DataFrame

    @property
    def days(self) -> str:
        if self.frame.empty:
            return "no days"
        return f"{self.frame['date'].min():%Y-%m-%d}..{self.frame['date'].max():%Y-%m-%d}"

    def window(self, issue_date: dt.date, days: int) -> pd.DataFrame:
        """The forecast days of an issue: the issue date and the `days - 1` days after it."""
        first = pd.Timestamp(issue_date)
        dates = self.frame["date"]
        inside = (dates >= first) & (dates < first + pd.Timedelta(days=days))
        return self.frame[inside.to_numpy()].reset_index(drop=True)


def read_forecast(data: bytes, name: str, priority: Sequence[str]) -> WeatherForecast:
    """A forecast from a file's bytes: any weather layout (Open-Meteo's JSON or CSV in practice)."""
    try:
        parsed = parse_weather(open_raw(data, name))
    except LandingFileError as error:
        raise ForecastSourceError(name, error.problem) from error
    if len(parsed.days) == 0:
        raise ForecastSourceError(name, "holds no day with a weather value")
    combined = combine_weather(parsed.days, parsed.series, priority)
    return WeatherForecast(name, combined.frame[["date", *WEATHER_FIELDS]])


def _error_reason(response: httpx.Response) -> str:
    """Open-Meteo's error body is {"error": true, "reason": ...}; anything else, its first characters."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "reason" in body:
        return str(body["reason"])
    return response.text[:300]


def fetch_open_meteo(base_url: str, days: int, timeout: float, priority: Sequence[str]) -> WeatherForecast:
    """The city's daily forecast from the Open-Meteo forecast API (or a server speaking its protocol)."""
    url = open_meteo_forecast_url(base_url, days)
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as error:
        raise ForecastSourceError(base_url, f"did not answer ({type(error).__name__}: {error})") from error
    if response.status_code != 200:
        raise ForecastSourceError(
            base_url, f"answered HTTP {response.status_code}: {_error_reason(response)}"
        )
    forecast = read_forecast(response.content, base_url, priority)
    return WeatherForecast(base_url, forecast.frame)


def open_meteo_unreachable(base_url: str, timeout: float) -> str | None:
    """Why the forecast API cannot be reached, or None when it answers at all (any HTTP status: a
    refusal is the run's to report, with its reason). Asked before a run is launched, so an offline
    machine skips a tick with the reason instead of failing a run."""
    try:
        httpx.get(base_url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"
    return None


def newest_file(folder: Path) -> Path:
    """The most recently modified visible file of a mirror folder."""
    files = [
        path
        for path in folder.rglob("*")
        if path.is_file() and is_visible(path.relative_to(folder).as_posix())
    ]
    if not files:
        raise ForecastSourceError(str(folder), "is an empty folder")
    return max(files, key=lambda path: (path.stat().st_mtime, path.name))


def fetch_forecast(
    source: str, base_url: str, days: int, timeout: float, priority: Sequence[str]
) -> WeatherForecast:
    """The forecast CRIME_WEATHER_FORECAST_SOURCE names: the Open-Meteo API, a file, or a folder's
    newest file. `none` has no forecast: only files dropped into the landing zone give one."""
    if source == OFFICIAL_SOURCE:
        return fetch_open_meteo(base_url, days, timeout, priority)
    if source in ("", NO_SOURCE):
        raise ForecastSourceError(
            "none", "CRIME_WEATHER_FORECAST_SOURCE is 'none': only forecast files in the landing zone count"
        )
    path = Path(source).expanduser()
    if path.is_dir():
        path = newest_file(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ForecastSourceError(source, f"cannot be read ({error})") from error
    return read_forecast(data, str(path), priority)
