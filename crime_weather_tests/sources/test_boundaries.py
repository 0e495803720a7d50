"""The comunas' boundaries: acquired like the other sources, recognised by content, validated."""

import copy
import json

import pytest

from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobInfo, LocalStore
from crime_weather.sources.acquisition import acquire, mirror_files, official_files
from crime_weather.sources.boundaries import (
    BoundaryError,
    comuna_number,
    is_comuna_collection,
    read_boundaries,
)
from crime_weather.sources.catalog import BOUNDARIES, REJECTED, describe
from crime_weather.sources.official import COMUNAS_URL
from crime_weather_tests.comunas import shared_comunas, synthetic_comunas, to_bytes


def test_acquisition_from_a_mirror_folder_brings_the_geojson(tmp_path):
    mirror, landing = tmp_path / "mirror", LocalStore(tmp_path / "landing")
    (mirror / "geo").mkdir(parents=True)
    (mirror / "geo" / "caba_comunas.geojson").write_bytes(to_bytes(synthetic_comunas()))
    report = acquire(mirror_files(mirror), landing)
    assert report.fetched == ["geo/caba_comunas.geojson"]
    info = landing.list()[0]
    assert describe(info, landing.read(info.key)).kind == BOUNDARIES


def test_the_official_source_includes_the_comunas_and_its_url_is_a_setting():
    files = {file.name: file.locations for file in official_files(Settings(crime_years=(), home="/tmp/x"))}
    assert files == {"comunas.geojson": (COMUNAS_URL,)}
    assert COMUNAS_URL.endswith("/datasets/ministerio-de-educacion/comunas/comunas.geojson")
    custom = Settings(crime_years=(), home="/tmp/x", comunas_url="http://mirror/c.geojson")
    assert official_files(custom)[0].locations == ("http://mirror/c.geojson",)


@pytest.mark.parametrize("official", [False, True])
def test_recognised_by_content_not_by_name(official):
    data = to_bytes(synthetic_comunas(official=official))
    file = describe(BlobInfo("whatever.txt", "v1", len(data), 1.0), data)
    assert (file.kind, file.layout, file.months) == (BOUNDARIES, "comunas_geojson", ())
    other = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "x"}}]}
    assert not is_comuna_collection(other) and not is_comuna_collection([1, 2])
    unknown = json.dumps(other).encode()
    assert describe(BlobInfo("x.geojson", "v1", len(unknown), 1.0), unknown).kind == REJECTED


@pytest.mark.parametrize(
    ("value", "number"), [(3, 3), (3.0, 3), ("3", 3), ("Comuna 3", 3), (3.5, None), (None, None), ("x", None)]
)
def test_comuna_numbers_in_every_spelling(value, number):
    assert comuna_number({"COMUNAS": value}) == number


@pytest.mark.parametrize("official", [False, True])
def test_a_synthetic_city_is_accepted_and_normalised(official):
    boundaries = read_boundaries(to_bytes(synthetic_comunas(official=official)), "synthetic.geojson")
    assert sorted(boundaries.area_km2) == list(range(1, 16))
    assert boundaries.total_area_km2 == pytest.approx(203.0, rel=1e-3)
    assert boundaries.vertices == 15 * 4
    normalised = json.loads(boundaries.to_bytes())
    assert [f["properties"]["comuna"] for f in normalised["features"]] == list(range(1, 16))
    assert {f["geometry"]["type"] for f in normalised["features"]} == {"MultiPolygon"}
    assert normalised["features"][2]["properties"]["barrios"] == "Barrio 3"
    assert normalised["source_file"] == "synthetic.geojson"
    assert read_boundaries(normalised, "again").area_km2 == boundaries.area_km2  # normalised is valid input


def test_the_shared_copy_is_accepted():
    boundaries = read_boundaries(shared_comunas(), "caba_comunas.geojson")
    # SOURCES.md: the file's own area_m2 add up to 204.1 km2; 10,870 vertices counting closing points.
    assert boundaries.total_area_km2 == pytest.approx(204.1, abs=0.3)
    assert (
        boundaries.vertices
        + sum(
            len(polygon) for f in boundaries.geojson["features"] for polygon in f["geometry"]["coordinates"]
        )
        == 10_870
    )


def _refusal(collection) -> str:
    with pytest.raises(BoundaryError) as caught:
        read_boundaries(to_bytes(collection), "bad.geojson")
    assert str(caught.value).startswith("bad.geojson: not the 15 comunas")
    return str(caught.value)


def test_fourteen_comunas_are_refused():
    collection = synthetic_comunas()
    del collection["features"][14]
    assert "14 comunas, expected 15: missing [15]" in _refusal(collection)


def test_a_duplicated_or_unknown_comuna_is_refused():
    collection = synthetic_comunas()
    collection["features"][1]["properties"]["comuna"] = 1
    collection["features"][2]["properties"]["comuna"] = 16
    message = _refusal(collection)
    assert "comuna 1 appears more than once" in message and "feature 3 is comuna 16" in message


def test_an_open_ring_is_refused():
    collection = synthetic_comunas()
    collection["features"][4]["geometry"]["coordinates"][0].pop()
    assert "comuna 5: ring 1 of polygon 1 is not closed" in _refusal(collection)


def test_a_ring_of_three_points_and_points_outside_the_city_are_refused():
    collection = synthetic_comunas()
    collection["features"][0]["geometry"]["coordinates"][0] = [[-58.5, -34.6], [-58.4, -34.6], [-58.5, -34.6]]
    swapped = copy.deepcopy(collection["features"][1]["geometry"]["coordinates"][0])
    collection["features"][1]["geometry"]["coordinates"][0] = [[lat, lon] for lon, lat in swapped]
    message = _refusal(collection)
    assert "comuna 1: ring 1 of polygon 1 has 3 points" in message
    assert "comuna 2: ring 1 of polygon 1 has 5 points outside the city's box" in message


@pytest.mark.parametrize("area", [150.0, 220.0])
def test_a_wrong_total_area_is_refused(area):
    assert f"add up to {area:.1f} km2, expected about 203 km2" in _refusal(synthetic_comunas(area))


def test_a_total_area_within_five_percent_is_accepted():
    assert read_boundaries(to_bytes(synthetic_comunas(211.0)), "big").total_area_km2 == pytest.approx(
        211.0, rel=1e-3
    )


def test_a_point_geometry_and_unparseable_bytes_are_refused():
    collection = synthetic_comunas()
    collection["features"][6]["geometry"] = {"type": "Point", "coordinates": [-58.4, -34.6]}
    assert "comuna 7: geometry is Point, not a Polygon or MultiPolygon" in _refusal(collection)
    with pytest.raises(BoundaryError, match="does not parse as JSON"):
        read_boundaries(b"{not json", "x")
