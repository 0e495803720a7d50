"""Small files in each official layout, written by the tests themselves (never copies of real data)."""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd

# One row per event: (date, hour, type, subtype, comuna, lat, lon). Values mimic each release's encoding.
EVENTS = [
    ("2019-03-01", 10, "robo", "Comuna 3", -34.61, -58.41),
    ("2019-03-01", 23, "robo", "Comuna 3", -34.62, -58.40),
    ("2019-03-02", 0, "hurto", "Comuna 14", -34.58, -58.43),
    ("2019-03-31", 7, "robo", "Comuna 15", 0.0, 0.0),
]


def to_csv(frame: pd.DataFrame, sep: str = ",") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data)


def zipped(data: bytes, member: str = "delitos.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


def release_2016(events=EVENTS) -> pd.DataFrame:
    types = {"robo": "Robo (Con violencia)", "hurto": "Hurto (Sin violencia)"}
    return pd.DataFrame(
        {
            "id": range(1, len(events) + 1),
            "comuna": [e[3] for e in events],
            "barrio": "BALVANERA",
            "latitud": [e[4] for e in events],
            "longitud": [e[5] for e in events],
            "fecha": [e[0] for e in events],
            "hora": [f"{e[1]:02d}:30:00" for e in events],
            "uso_arma": "SIN USO DE ARMA",
            "uso_moto": "SIN MOTO",
            "lugar": "",
            "origen_dato": "",
            "tipo_delito": [types[e[2]] for e in events],
            "cantidad_vehiculos": 0,
            "cantidad_victimas": 0,
        }
    )


def release_2017_2019(events=EVENTS) -> pd.DataFrame:
    types = {"robo": "Robo (con violencia)", "hurto": "Hurto (sin violencia)"}
    return pd.DataFrame(
        {
            "id": range(100, 100 + len(events)),
            "fecha": [e[0] for e in events],
            "franja_horaria": [e[1] for e in events],
            "tipo_delito": [types[e[2]] for e in events],
            "subtipo_delito": ["Robo Automotor" if i == 1 else None for i in range(len(events))],
            "comuna": [e[3].replace("Comuna ", "") + ".0" for e in events],
            "barrio": "Palermo",
            "lat": [e[4] for e in events],
            "long": [e[5] for e in events],
        }
    )


def release_2020(events=EVENTS) -> pd.DataFrame:
    types = {"robo": "Robo (con violencia)", "hurto": "Hurto (sin violencia)"}
    dates = pd.to_datetime([e[0] for e in events])
    return pd.DataFrame(
        {
            "id_mapa": [f"RH-2020-{i:07d}" for i in range(len(events))],
            "anio": dates.year,
            "mes": "Marzo",
            "dia": "Viernes",
            "fecha": dates.strftime("%d/%m/%y"),
            "franja": [str(e[1]) for e in events],
            "tipo": [types[e[2]] for e in events],
            "subtipo": None,
            "uso_armas": None,
            "barrio": "Boca",
            "comuna": [e[3].replace("Comuna ", "") for e in events],
            "latitud": [e[4] for e in events],
            "longitud": [e[5] for e in events],
            "victimas": 1,
        }
    )


def release_current(events=EVENTS) -> pd.DataFrame:
    types = {"robo": ("Robo", "Robo total"), "hurto": ("Hurto", "Hurto total")}
    return pd.DataFrame(
        {
            "id-mapa": [f"RH-{i}" for i in range(len(events))],
            "anio": [int(e[0][:4]) for e in events],
            "mes": "MARZO",
            "dia": "VIERNES",
            "fecha": [e[0] for e in events],
            "franja": [str(e[1]) for e in events],
            "tipo": [types[e[2]][0] for e in events],
            "subtipo": [types[e[2]][1] for e in events],
            "uso_arma": "NO",
            "uso_moto": "NO",
            "barrio": "Retiro",
            "comuna": [float(e[3].replace("Comuna ", "")) for e in events],
            "latitud": [str(e[4]).replace(".", ",") for e in events],
            "longitud": [str(e[5]).replace(".", ",") for e in events],
            "cantidad": 1,
        }
    )


def smn_daily(days: pd.DatetimeIndex) -> pd.DataFrame:
    n = len(days)
    return pd.DataFrame(
        {
            "fecha": days.strftime("%Y-%m-%d"),
            "TMAX": [25.0 + i % 3 for i in range(n)],
            "TMIN": [15.0] * n,
            "TMEDIA": [20.0 + i % 3 for i in range(n)],
            "PRECIP": [None if i % 2 else 4.5 for i in range(n)],
            "HELIOF": [8.0] * n,
            "VTO_MDIR": [14] * n,
            "VTO_MVEL": [40] * n,
            "VEL_MED": [12] * n,
            "PRE_EST": [1012.5] * n,
            "HUM_REL": [70] * n,
            "NUB_TOT": [4] * n,
        }
    )


def cammesa(days: pd.DatetimeIndex) -> pd.DataFrame:
    rows = []
    for i, day in enumerate(days):
        rows.append({"fecha": day.strftime("%Y-%m-%d"), "tmed": 18.0 + i % 5, "region": "GBA"})
        rows.append({"fecha": day.strftime("%Y-%m-%d"), "tmed": 30.0, "region": "NOA"})
    return pd.DataFrame(rows)


def events_for(
    months: list[str], per_day: int = 6, seed: int = 0, comuna_weights: list[float] | None = None
) -> list[tuple]:
    """Events over whole months (robberies and thefts, every comuna): enough rows to train on.
    `comuna_weights` (15 values) makes some comunas busier than others; by default all are alike.

    Generated by the test, like every builder here; never a copy of real data.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    weights = None if comuna_weights is None else np.asarray(comuna_weights) / np.sum(comuna_weights)
    events = []
    for month in months:
        for day in pd.date_range(f"{month}-01", pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)):
            for _ in range(rng.poisson(per_day)):
                kind = "robo" if rng.random() < 0.7 else "hurto"
                comuna = int(rng.integers(1, 16)) if weights is None else int(rng.choice(15, p=weights)) + 1
                events.append(
                    (
                        day.strftime("%Y-%m-%d"),
                        int(rng.integers(0, 24)),
                        kind,
                        f"Comuna {comuna}",
                        -34.6,
                        -58.44,
                    )
                )
    return events


OPEN_METEO_UNITS = {
    "time": "iso8601",
    "temperature_2m_mean": "°C",
    "temperature_2m_min": "°C",
    "temperature_2m_max": "°C",
    "precipitation_sum": "mm",
    "relative_humidity_2m_mean": "%",
    "wind_speed_10m_mean": "km/h",
    "pressure_msl_mean": "hPa",
}


def open_meteo_forecast(first, days: int = 7, latitude: float = -34.61, rain_day: int = 2) -> dict:
    """A daily forecast as the Open-Meteo forecast API returns it (JSON), for the city from `first`.

    Values made up by the test (a mild spring week with rain on day `rain_day`), never a real forecast.
    """
    dates = pd.date_range(pd.Timestamp(first), periods=days, freq="D")
    means = [19.0 + (i % 3) for i in range(days)]
    return {
        "latitude": latitude,
        "longitude": -58.44,
        "generationtime_ms": 0.3,
        "utc_offset_seconds": -10800,
        "timezone": "America/Argentina/Buenos_Aires",
        "timezone_abbreviation": "GMT-3",
        "elevation": 25.0,
        "daily_units": OPEN_METEO_UNITS,
        "daily": {
            "time": [day.strftime("%Y-%m-%d") for day in dates],
            "temperature_2m_mean": means,
            "temperature_2m_min": [mean - 5 for mean in means],
            "temperature_2m_max": [mean + 6 for mean in means],
            "precipitation_sum": [12.5 if i == rain_day else 0.0 for i in range(days)],
            "relative_humidity_2m_mean": [65 + 2 * i for i in range(days)],
            "wind_speed_10m_mean": [14.0 + i for i in range(days)],
            # The API sends null for a variable it has no value for (here: the last day's pressure).
            "pressure_msl_mean": [1013.0 - i for i in range(days - 1)] + [None],
        },
    }


def forecast_json(first, days: int = 7, **kwargs) -> bytes:
    import json

    return json.dumps(open_meteo_forecast(first, days, **kwargs)).encode()
