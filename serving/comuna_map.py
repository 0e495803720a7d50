"""A server-side SVG map of the 15 comunas, one value per comuna, for the API's pages.

No plotting library and no JavaScript: the page gets a self-contained SVG (one <path> per comuna with
`id`, `data-comuna` and a <title> tooltip, a sequential colour scale and its legend). Lon/lat are
projected equirectangularly at the city's latitude, the scale a 20 km city needs; nothing is
simplified. The projection of the polygons is done once per GeoJSON (`ComunaMap`), so a request only
colours 15 prepared paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from crime_weather.sources.official import CITY_LATITUDE

# ColorBrewer YlOrRd (5 classes): light = few, dark = many; interpolated linearly between the stops.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d9d9d9"
_LEGEND_HEIGHT = 56
_MARGIN = 8


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colour_at(share: float, stops: Sequence[str] = SEQUENTIAL) -> str:
    """The scale's colour at `share` in [0, 1] (clipped)."""
    share = min(max(share, 0.0), 1.0) * (len(stops) - 1)
    low = min(int(share), len(stops) - 2)
    weight = share - low
    mixed = (round(a + (b - a) * weight) for a, b in zip(_rgb(stops[low]), _rgb(stops[low + 1]), strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _format(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2f}"


class ComunaMap:
    """The comunas of a normalised GeoJSON (comuna_boundaries), projected once into `width` pixels."""

    def __init__(self, geojson: Mapping[str, Any], width: int = 640) -> None:
        features = [(int(f["properties"]["comuna"]), _polygons(f["geometry"])) for f in geojson["features"]]
        points = [p for _, polygons in features for polygon in polygons for ring in polygon for p in ring]
        scale_x = math.cos(math.radians(CITY_LATITUDE))
        min_x, max_x = min(p[0] for p in points) * scale_x, max(p[0] for p in points) * scale_x
        min_y, max_y = min(p[1] for p in points), max(p[1] for p in points)
        self.width = width
        pixels = (width - 2 * _MARGIN) / (max_x - min_x)
        self.map_height = math.ceil((max_y - min_y) * pixels) + 2 * _MARGIN
        self.height = self.map_height + _LEGEND_HEIGHT

        def path(polygons: list[Any]) -> str:
            rings = []
            for polygon in polygons:
                for ring in polygon:
                    coords = " ".join(
                        f"{(x * scale_x - min_x) * pixels + _MARGIN:.1f},{(max_y - y) * pixels + _MARGIN:.1f}"
                        for x, y, *_ in ring
                    )
                    rings.append(f"M{coords}Z")
            return "".join(rings)

        self.paths = {number: path(polygons) for number, polygons in sorted(features)}

    def render(
        self,
        values: Mapping[int, float | None],
        labels: Mapping[int, str] | None = None,
        title: str = "",
        unit: str = "",
    ) -> str:
        """The SVG: each comuna filled by its value on a sequential scale, NO_DATA where it is None
        (or absent); the tooltip is the comuna's label (default "Comuna n: value")."""
        known = [float(v) for n in self.paths if (v := values.get(n)) is not None and math.isfinite(v)]
        low, high = (min(known), max(known)) if known else (0.0, 0.0)
        suffix = f" {unit}" if unit else ""
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="{self.width}" height="{self.height}" role="img" class="comuna-map">',
            f"<title>{escape(title or 'Comunas of Buenos Aires')}</title>",
            '<g stroke="#ffffff" stroke-width="0.8" stroke-linejoin="round" fill-rule="evenodd">',
        ]
        for number, d in self.paths.items():
            value = values.get(number)
            if value is None or not math.isfinite(value):
                fill, shown, value_attr = NO_DATA, "no data", ""
            else:
                share = (value - low) / (high - low) if high > low else 0.5
                fill, shown, value_attr = (
                    colour_at(share),
                    _format(value) + suffix,
                    f' data-value="{float(value)!r}"',  # exact: a page test compares it
                )
            label = (labels or {}).get(number) or f"Comuna {number}: {shown}"
            parts.append(
                f'<path id="comuna-{number}" data-comuna="{number}"{value_attr} fill="{fill}" d="{d}">'
                f"<title>{escape(label)}</title></path>"
            )
        parts.append("</g>")
        parts += self._legend(low, high, known, suffix, has_missing=len(known) < len(self.paths))
        parts.append("</svg>")
        return "".join(parts)

    def _legend(
        self, low: float, high: float, known: list[float], suffix: str, has_missing: bool
    ) -> list[str]:
        top, bar_width = self.map_height + 8, min(240, self.width // 2)
        stops = "".join(
            f'<stop offset="{index / (len(SEQUENTIAL) - 1):.2f}" stop-color="{colour}"/>'
            for index, colour in enumerate(SEQUENTIAL)
        )
        parts = [
            '<g class="legend" font-family="sans-serif" font-size="11" fill="#333333">',
            f'<defs><linearGradient id="comuna-scale">{stops}</linearGradient></defs>',
        ]
        if known:
            parts += [
                f'<rect x="{_MARGIN}" y="{top}" width="{bar_width}" height="12" fill="url(#comuna-scale)"/>',
                f'<text x="{_MARGIN}" y="{top + 26}">{escape(_format(low) + suffix)}</text>',
                f'<text x="{_MARGIN + bar_width}" y="{top + 26}" text-anchor="end">'
                f"{escape(_format(high) + suffix)}</text>",
            ]
        if has_missing:
            x = _MARGIN + bar_width + 16 if known else _MARGIN
            parts += [
                f'<rect x="{x}" y="{top}" width="12" height="12" fill="{NO_DATA}"/>',
                f'<text x="{x + 16}" y="{top + 10}">no data</text>',
            ]
        parts.append("</g>")
        return parts


def _polygons(geometry: Mapping[str, Any]) -> list[Any]:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else list(geometry["coordinates"])


def render_comuna_map(
    geojson: Mapping[str, Any],
    values: Mapping[int, float | None],
    labels: Mapping[int, str] | None = None,
    title: str = "",
    unit: str = "",
    width: int = 640,
) -> str:
    """One call for one map; a page rendering many keeps a ComunaMap instead."""
    return ComunaMap(geojson, width).render(values, labels, title, unit)
