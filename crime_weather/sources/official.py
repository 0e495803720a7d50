"""Official download locations, in one place (see ../shared/data/SOURCES.md).

Crime: GCBA "Mapa del Delito" yearly CSVs on BA Data's CDN. Weather: Open-Meteo's historical
archive API for the city centre, one JSON file per year; the coming days from Open-Meteo's forecast
API for the same point. The comunas' boundaries: BA Data's "Comunas" GeoJSON (CC BY 2.5 AR).
"""

from __future__ import annotations

from urllib.parse import urlencode

CRIME_URL = (
    "https://cdn.buenosaires.gob.ar/datosabiertos/datasets/ministerio-de-justicia-y-seguridad/delitos/"
    "delitos_{year}.csv"
)
# The 2017-2019 release was published under another dataset before the current one.
LEGACY_CRIME_URL = "http://cdn.buenosaires.gob.ar/datosabiertos/datasets/mapa-del-delito/delitos_{year}.csv"
LEGACY_CRIME_YEARS = range(2017, 2020)
COMUNAS_URL = (
    "https://cdn.buenosaires.gob.ar/datosabiertos/datasets/ministerio-de-educacion/comunas/comunas.geojson"
)

CITY_LATITUDE, CITY_LONGITUDE = -34.61, -58.44
# Days are the city's days: weather files are requested in its time zone, forecasts issued by its calendar.
CITY_TIMEZONE = "America/Argentina/Buenos_Aires"
OPEN_METEO_DAILY = (
    "temperature_2m_mean",
    "temperature_2m_min",
    "temperature_2m_max",
    "precipitation_sum",
    "relative_humidity_2m_mean",
    "wind_speed_10m_mean",
    "pressure_msl_mean",
)


def crime_urls(year: int, template: str | None = None) -> tuple[str, ...]:
    """Where the crime file of a year is, most likely first."""
    if template:
        return (template.format(year=year),)
    urls = [CRIME_URL.format(year=year)]
    if year in LEGACY_CRIME_YEARS:
        urls.append(LEGACY_CRIME_URL.format(year=year))
    return tuple(urls)


def open_meteo_url(base: str, year: int) -> str:
    """Daily weather for the city for one calendar year, in canonical units."""
    query = {
        "latitude": CITY_LATITUDE,
        "longitude": CITY_LONGITUDE,
        "start_date": f"{year}-01-01",
        "end_date": f"{year}-12-31",
        "daily": ",".join(OPEN_METEO_DAILY),
        "timezone": CITY_TIMEZONE,
        "wind_speed_unit": "kmh",
        "temperature_unit": "celsius",
        "precipitation_unit": "mm",
    }
    return f"{base}?{urlencode(query)}"


def open_meteo_forecast_url(base: str, days: int) -> str:
    """The daily forecast for the city from today (its time zone) on, `days` days, in canonical units."""
    query = {
        "latitude": CITY_LATITUDE,
        "longitude": CITY_LONGITUDE,
        "daily": ",".join(OPEN_METEO_DAILY),
        "forecast_days": days,
        "timezone": CITY_TIMEZONE,
        "wind_speed_unit": "kmh",
        "temperature_unit": "celsius",
        "precipitation_unit": "mm",
    }
    return f"{base}?{urlencode(query)}"
