"""The 15 comunas' boundaries: recognise BA Data's "Comunas" GeoJSON, normalise and validate it.

Two spellings reach the landing zone: the official file (properties `ID, OBJETO, COMUNAS` as a float,
`BARRIOS, PERIMETRO, AREA`) and the shared copy (`comuna` as an int, `barrios, area_m2, perimeter_m`).
Both become one normalised FeatureCollection (one MultiPolygon feature per comuna, sorted 1..15, no
vertex removed) that the API reads from the warehouse. A file that is not the city's 15 comunas is
refused with every problem named, so a wrong map never reaches a page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crime_weather.sources.official import CITY_LATITUDE

COMUNA_BOUNDARIES = "comuna_boundaries"
WAREHOUSE_KEY = f"{COMUNA_BOUNDARIES}/comunas.geojson"
COMUNAS = tuple(range(1, 16))
# The city's surface (about 203 km2) and how far a file's polygons may add up away from it.
CITY_AREA_KM2 = 203.0
AREA_TOLERANCE = 0.05
# A box around the city (lon -58.53..-58.34, lat -34.71..-34.53) with a margin of a few km.
CITY_BOUNDS = (-58.56, -34.74, -58.30, -34.50)  # min lon, min lat, max lon, max lat
_EARTH_RADIUS_M = 6_371_008.8
_COMUNA_KEYS = ("comuna", "comunas")
_MAX_LISTED = 12


class BoundaryError(ValueError):
    """A boundaries file that is not the 15 comunas; the message names the file and every problem."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        listed = list(problems[:_MAX_LISTED])
        if len(problems) > _MAX_LISTED:
            listed.append(f"... and {len(problems) - _MAX_LISTED} more")
        super().__init__(f"{name}: not the 15 comunas of Buenos Aires: " + "; ".join(listed))
        self.name = name
        self.problems = list(problems)


@dataclass(frozen=True)
class ComunaBoundaries:
    """The validated, normalised FeatureCollection and what the asset reports about it."""

    geojson: dict[str, Any]
    area_km2: dict[int, float]
    vertices: int

    @property
    def total_area_km2(self) -> float:
        return sum(self.area_km2.values())

    def to_bytes(self) -> bytes:
        return json.dumps(self.geojson, separators=(",", ":"), ensure_ascii=False).encode()


def _property(properties: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """A property by any of its names, case-insensitively (COMUNAS in the official file)."""
    lowered = {str(key).lower(): value for key, value in properties.items()}
    return next((lowered[key] for key in keys if key in lowered), None)


def comuna_number(properties: Mapping[str, Any] | None) -> int | None:
    """1.0, 1, "1" or "Comuna 1" -> 1; None when the feature names no comuna."""
    value = _property(properties or {}, _COMUNA_KEYS)
    if isinstance(value, str):
        value = value.strip().lower().removeprefix("comuna").strip()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def is_comuna_collection(data: Any) -> bool:
    """Recognised by content: a FeatureCollection whose features carry a comuna property."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return False
    features = data.get("features")
    return isinstance(features, list) and any(
        isinstance(feature, dict)
        and isinstance(feature.get("properties"), dict)
        and _property(feature["properties"], _COMUNA_KEYS) is not None
        for feature in features
    )


def ring_area_m2(ring: np.ndarray) -> float:
    """Shoelace area of a lon/lat ring on an equirectangular projection at the city's latitude:
    over 20 km the scale varies by well under 1 %, far inside the area check's tolerance."""
    x = np.radians(ring[:, 0]) * _EARTH_RADIUS_M * math.cos(math.radians(CITY_LATITUDE))
    y = np.radians(ring[:, 1]) * _EARTH_RADIUS_M
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2


def _ring_problems(where: str, ring: Any) -> tuple[list[str], np.ndarray | None]:
    try:
        points = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):
        return [f"{where} is not a list of [lon, lat] points"], None
    if points.ndim != 2 or points.shape[1] < 2 or not np.isfinite(points[:, :2]).all():
        return [f"{where} is not a list of [lon, lat] points"], None
    points = points[:, :2]
    if len(points) < 4:
        return [f"{where} has {len(points)} points (a ring needs at least 4)"], None
    problems = []
    if not np.array_equal(points[0], points[-1]):
        problems.append(
            f"{where} is not closed (first point {points[0].tolist()}, last {points[-1].tolist()})"
        )
    min_lon, min_lat, max_lon, max_lat = CITY_BOUNDS
    outside = ~(
        (points[:, 0] >= min_lon)
        & (points[:, 0] <= max_lon)
        & (points[:, 1] >= min_lat)
        & (points[:, 1] <= max_lat)
    )
    if outside.any():
        first = points[outside.argmax()].tolist()
        problems.append(
            f"{where} has {int(outside.sum())} points outside the city's box {CITY_BOUNDS} (e.g. {first}; "
            "coordinates must be WGS 84 lon/lat)"
        )
    return problems, points


def _polygons(geometry: Any) -> list[Any] | None:
    """The geometry as a list of polygons (lists of rings); None if it is not a (Multi)Polygon."""
    if not isinstance(geometry, dict) or not isinstance(geometry.get("coordinates"), list):
        return None
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"]]
    if geometry.get("type") == "MultiPolygon":
        return geometry["coordinates"]
    return None


def _comuna_problems(number: int, geometry: Any) -> tuple[list[str], float, int]:
    """Problems of one comuna's geometry, its area (outer rings less holes) and its vertex count."""
    polygons = _polygons(geometry)
    kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
    if not polygons:
        return [f"comuna {number}: geometry is {kind}, not a Polygon or MultiPolygon"], 0.0, 0
    problems, area, vertices = [], 0.0, 0
    for p, polygon in enumerate(polygons, 1):
        if not isinstance(polygon, list) or not polygon:
            problems.append(f"comuna {number}: polygon {p} has no rings")
            continue
        for r, ring in enumerate(polygon, 1):
            ring_issues, points = _ring_problems(f"comuna {number}: ring {r} of polygon {p}", ring)
            problems += ring_issues
            if points is not None and not ring_issues:
                vertices += len(points) - 1
                area += ring_area_m2(points) * (1 if r == 1 else -1)
    return problems, area, vertices


def read_boundaries(data: bytes | Mapping[str, Any], name: str) -> ComunaBoundaries:
    """Validate and normalise a comunas file; raise BoundaryError naming everything wrong with it."""
    if isinstance(data, bytes | bytearray):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise BoundaryError(name, [f"does not parse as JSON ({error})"]) from error
    if not is_comuna_collection(data):
        raise BoundaryError(name, ["is not a FeatureCollection whose features carry a comuna property"])
    problems: list[str] = []
    by_number: dict[int, dict[str, Any]] = {}
    for index, feature in enumerate(data["features"], 1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        number = comuna_number(properties)
        if number is None:
            problems.append(f"feature {index} names no comuna number")
        elif number not in COMUNAS:
            problems.append(f"feature {index} is comuna {number}, not one of 1..15")
        elif number in by_number:
            problems.append(f"comuna {number} appears more than once")
        else:
            by_number[number] = feature
    if missing := sorted(set(COMUNAS) - set(by_number)):
        problems.append(f"{len(by_number)} comunas, expected 15: missing {missing}")
    areas, vertices = {}, 0
    for number, feature in sorted(by_number.items()):
        issues, area, count = _comuna_problems(number, feature.get("geometry"))
        problems += issues
        areas[number], vertices = area / 1e6, vertices + count
        if not issues and area <= 0:
            problems.append(f"comuna {number}: its polygons enclose no area")
    total = sum(areas.values())
    if not problems and abs(total / CITY_AREA_KM2 - 1) > AREA_TOLERANCE:
        problems.append(
            f"the comunas add up to {total:.1f} km2, expected about {CITY_AREA_KM2:.0f} km2 "
            f"(+-{AREA_TOLERANCE:.0%}): wrong units, a missing piece or another city"
        )
    if problems:
        raise BoundaryError(name, problems)
    return ComunaBoundaries(_normalised(by_number, areas, name), areas, vertices)


def _normalised(
    by_number: Mapping[int, Mapping[str, Any]], areas: Mapping[int, float], name: str
) -> dict[str, Any]:
    features = []
    for number, feature in sorted(by_number.items()):
        barrios = _property(feature.get("properties") or {}, ("barrios",))
        geometry = feature["geometry"]
        features.append(
            {
                "type": "Feature",
                "id": number,
                "properties": {
                    "comuna": number,
                    "barrios": str(barrios).strip() if barrios is not None else "",
                    "area_km2": round(areas[number], 3),
                },
                "geometry": {"type": "MultiPolygon", "coordinates": _polygons(geometry)},
            }
        )
    return {"type": "FeatureCollection", "name": COMUNA_BOUNDARIES, "source_file": name, "features": features}
