"""The server-side SVG map: one path per comuna, coloured by value, valid XML, fast enough per request."""

import time
import xml.etree.ElementTree as ET

import pytest

from crime_weather.sources.boundaries import read_boundaries
from crime_weather_tests.comunas import shared_comunas, synthetic_comunas, to_bytes
from serving.comuna_map import NO_DATA, SEQUENTIAL, ComunaMap, colour_at, render_comuna_map

SVG = "{http://www.w3.org/2000/svg}"


def _paths(svg: str) -> dict[int, ET.Element]:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return {int(path.get("data-comuna")): path for path in root.iter(f"{SVG}path")}


@pytest.fixture(scope="module")
def synthetic() -> dict:
    return read_boundaries(to_bytes(synthetic_comunas()), "synthetic").geojson


def test_one_path_per_comuna_coloured_by_value_neutral_for_none(synthetic):
    values = {n: float(n) for n in range(1, 16)} | {7: None}
    paths = _paths(render_comuna_map(synthetic, values, title="Robberies <today>", unit="robberies"))
    assert sorted(paths) == list(range(1, 16))
    assert all(path.get("id") == f"comuna-{n}" for n, path in paths.items())
    assert paths[1].get("fill") == SEQUENTIAL[0] and paths[15].get("fill") == SEQUENTIAL[-1]
    assert paths[7].get("fill") == NO_DATA and paths[7].get("data-value") is None
    assert paths[7].find(f"{SVG}title").text == "Comuna 7: no data"
    assert paths[8].find(f"{SVG}title").text == "Comuna 8: 8.0 robberies"
    # Each synthetic comuna is a square: 4 corners and the closing Z.
    assert paths[3].get("d").startswith("M") and paths[3].get("d").count(",") == 5


def test_labels_are_the_tooltips_and_are_escaped(synthetic):
    labels = {n: f"Comuna {n} & <barrios>" for n in range(1, 16)}
    paths = _paths(render_comuna_map(synthetic, dict.fromkeys(range(1, 16), 2.0), labels))
    assert paths[4].find(f"{SVG}title").text == "Comuna 4 & <barrios>"
    assert {path.get("fill") for path in paths.values()} == {colour_at(0.5)}  # one value: mid-scale


def test_the_legend_shows_the_range_and_no_data_only_when_needed(synthetic):
    root = ET.fromstring(render_comuna_map(synthetic, {n: n * 10.0 for n in range(1, 16)}))
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert texts == ["10.0", "150"]
    empty = ET.fromstring(render_comuna_map(synthetic, {}))
    assert [text.text for text in empty.iter(f"{SVG}text")] == ["no data"]


def test_colour_scale_runs_from_the_first_to_the_last_stop():
    assert colour_at(0.0) == SEQUENTIAL[0] and colour_at(1.0) == SEQUENTIAL[-1]
    assert colour_at(0.25) == SEQUENTIAL[1] and colour_at(2.0) == SEQUENTIAL[-1]


def test_the_real_comunas_render_per_request_in_milliseconds():
    geojson = read_boundaries(shared_comunas(), "caba_comunas.geojson").geojson
    values = {n: float(n) for n in range(1, 16)}
    started = time.perf_counter()
    svg = render_comuna_map(geojson, values)
    cold = time.perf_counter() - started
    prepared = ComunaMap(geojson)
    started = time.perf_counter()
    for _ in range(20):
        prepared.render(values)
    warm = (time.perf_counter() - started) / 20
    print(
        f"comuna map, 15 comunas, 10,854 vertices: {cold * 1e3:.1f} ms from GeoJSON, {warm * 1e3:.2f} ms prepared"
    )
    paths = _paths(svg)
    assert sorted(paths) == list(range(1, 16))
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert 640 == width < height  # the city is taller than wide at its latitude
    assert cold < 0.5 and warm < 0.05
