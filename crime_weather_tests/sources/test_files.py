import gzip
import json

import pytest

from crime_weather.sources.files import LandingFileError, open_raw
from crime_weather_tests.builders import gz, zipped

CSV = b"fecha,tmed,region\n2019-01-01,20.5,GBA\n"


@pytest.mark.parametrize("pack", [lambda d: d, gz, zipped], ids=["csv", "csv.gz", "zip"])
def test_recognises_packaging_by_content_not_name(pack):
    raw = open_raw(pack(CSV), "no-extension-at-all")
    assert raw.columns == ("fecha", "tmed", "region")
    table, bad = raw.read(["tmed"])
    assert table.column("tmed").to_pylist() == ["20.5"] and bad == []


def test_truncated_gzip_is_named_and_explained():
    data = gzip.compress(CSV * 500)[:-40]
    with pytest.raises(LandingFileError, match=r"weather\.csv\.gz: is a damaged or truncated gzip"):
        open_raw(data, "weather.csv.gz")


def test_empty_file_and_multi_member_zip_are_refused():
    with pytest.raises(LandingFileError, match="empty"):
        open_raw(b"", "empty.csv")
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", CSV)
        archive.writestr("b.csv", CSV)
    with pytest.raises(LandingFileError, match=r"exactly one CSV, found a\.csv, b\.csv"):
        open_raw(buffer.getvalue(), "two.zip")


def test_semicolon_bom_and_latin1_headers():
    data = "\ufeffanio;mes;máxima;mínima;media\n1991;Enero;28,4;19,8;24,1\n".encode("latin-1", "ignore")
    raw = open_raw(data, "monthly.csv")
    assert raw.delimiter == ";" and raw.encoding == "latin1"
    assert raw.columns[0] == "anio" and "maxima" in raw.columns  # accents and case folded


def test_open_meteo_preamble_is_skipped():
    data = (
        b"latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation\n"
        b"-34.6,-58.4,25.0,-10800,America/Argentina/Buenos_Aires,GMT-3\n\n"
        b"time,temperature_2m_mean (\xc2\xb0C)\n2019-01-01,24.1\n"
    )
    raw = open_raw(data, "export.csv")
    assert raw.skip_rows == 3 and raw.columns == ("time", "temperature_2m_mean (°c)")
    table, _ = raw.read(raw.columns)
    assert table.num_rows == 1


def test_json_and_binary_are_told_apart():
    assert open_raw(json.dumps({"daily": {"time": []}}).encode(), "x").format == "json"
    assert open_raw(gzip.compress(b"X\n\x00\x00\x00\x03rds"), "x.rds").format == "binary"


def test_rows_with_the_wrong_number_of_fields_are_counted_not_hidden():
    raw = open_raw(b"a,b\n1,2\n3\n4,5\n", "ragged.csv")
    table, bad = raw.read(["a", "b"])
    assert table.num_rows == 2
    assert len(bad) == 1 and "expected 2 fields, found 1" in str(bad[0])
