"""Comunas GeoJSON for tests: a synthetic city of 15 rectangles and the shared copy of BA Data's file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from crime_weather.sources.official import CITY_LATITUDE
from harness.shared_data import SHARED_RAW

SHARED_COMUNAS = SHARED_RAW.parent / "geo" / "caba_comunas.geojson"
_METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180


def synthetic_comunas(area_km2: float = 203.0, official: bool = False) -> dict[str, Any]:
    """15 square comunas in a 5 x 3 grid inside the city's box adding up to `area_km2`, spelled as the
    official file (`COMUNAS` floats, `BARRIOS`) or as the shared copy (`comuna` ints, `barrios`)."""
    side_m = math.sqrt(area_km2 * 1e6 / 15)
    dlat = side_m / _METRES_PER_DEGREE
    dlon = side_m / (_METRES_PER_DEGREE * math.cos(math.radians(CITY_LATITUDE)))
    features = []
    for number in range(1, 16):
        row, col = divmod(number - 1, 5)
        lon, lat = -58.53 + col * dlon, -34.70 + row * dlat
        ring = [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat], [lon, lat]]
        properties = (
            {
                "ID": number,
                "OBJETO": "LIMITE COMUNAL",
                "COMUNAS": float(number),
                "BARRIOS": f"Barrio {number}",
            }
            if official
            else {"comuna": number, "barrios": f"Barrio {number}"}
        )
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def to_bytes(collection: dict[str, Any]) -> bytes:
    return json.dumps(collection).encode()


def shared_comunas() -> bytes:
    """The shared copy (../shared/data/geo), or a skip where the shared data is not on the machine."""
    if not SHARED_COMUNAS.is_file():
        pytest.skip(f"{SHARED_COMUNAS} is not on this machine")
    return SHARED_COMUNAS.read_bytes()


def shared_data_root() -> Path:
    return SHARED_RAW.parent
