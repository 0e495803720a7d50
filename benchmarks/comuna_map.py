"""What the SVG comuna map costs per request: from the GeoJSON (projection included) and prepared.

Reads the warehouse's comuna_boundaries file if given, else the shared copy (../shared/data/geo),
validated and normalised as the asset stores it. Medians of wall-clock time.

    .venv/bin/python benchmarks/comuna_map.py [--geojson PATH] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# This folder holds a script named serving.py: the project goes first on sys.path (as in _api.py).
_HERE = str(Path(__file__).resolve().parent)
if sys.path and sys.path[0] == _HERE:
    sys.path.append(sys.path.pop(0))

from crime_weather.sources.boundaries import read_boundaries  # noqa: E402
from serving.comuna_map import ComunaMap, render_comuna_map  # noqa: E402

SHARED_COPY = Path(__file__).resolve().parents[2] / "shared" / "data" / "geo" / "caba_comunas.geojson"


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geojson", type=Path, default=SHARED_COPY)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    boundaries = read_boundaries(args.geojson.read_bytes(), args.geojson.name)
    values = {n: float(n) for n in range(1, 16)} | {7: None}
    prepared = ComunaMap(boundaries.geojson)
    cold = _median_ms(lambda: render_comuna_map(boundaries.geojson, values), args.repeat)
    warm = _median_ms(lambda: prepared.render(values), args.repeat)
    size = len(prepared.render(values).encode())
    print(
        f"15 comunas, {boundaries.vertices} vertices, SVG {size / 1024:.0f} KiB: "
        f"{cold:.1f} ms from the GeoJSON, {warm:.2f} ms prepared (median of {args.repeat})"
    )


if __name__ == "__main__":
    main()
