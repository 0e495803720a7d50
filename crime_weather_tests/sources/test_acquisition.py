import datetime as dt
import http.server
import os
import subprocess
import sys
import threading
from functools import partial

import pytest

from crime_weather.core.settings import Settings
from crime_weather.core.storage import LocalStore
from crime_weather.sources.acquisition import RemoteFile, acquire, mirror_files, official_files, source_files
from crime_weather.sources.official import crime_urls


@pytest.fixture
def http_folder(tmp_path):
    """A real HTTP server on loopback serving a folder (the internet is never touched)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_local_mirror_copies_only_what_landing_lacks(tmp_path):
    mirror, landing = tmp_path / "mirror", LocalStore(tmp_path / "landing")
    (mirror / "sub").mkdir(parents=True)
    (mirror / "a.csv").write_bytes(b"a")
    (mirror / "sub" / "b.csv").write_bytes(b"b")
    (mirror / ".hidden").write_bytes(b"h")
    landing.write("a.csv", b"the user's own version")
    report = acquire(mirror_files(mirror), landing)
    assert report.fetched == ["sub/b.csv"] and report.already_present == ["a.csv"]
    assert landing.read("a.csv") == b"the user's own version"  # never rewritten
    assert acquire(mirror_files(mirror), landing).fetched == []


def test_downloads_over_http_fall_back_and_report_failures(http_folder, tmp_path):
    root, base = http_folder
    (root / "delitos_2019.csv").write_bytes(b"id,fecha\n")
    landing = LocalStore(tmp_path / "landing")
    files = [
        RemoteFile("delitos_2019.csv", (f"{base}/missing.csv", f"{base}/delitos_2019.csv")),
        RemoteFile("delitos_2020.csv", (f"{base}/nope.csv",)),
    ]
    report = acquire(files, landing)
    assert report.fetched == ["delitos_2019.csv"] and landing.read("delitos_2019.csv") == b"id,fecha\n"
    assert "404" in report.failed["delitos_2020.csv"] and not landing.exists("delitos_2020.csv")
    assert [info.key for info in landing.list()] == ["delitos_2019.csv"]  # no partial file left behind


def test_official_sources_are_complete_past_years_only(monkeypatch):
    settings = Settings(crime_years=(2019, 2020, 2026), home="/tmp/x")
    files = official_files(settings, today=dt.date(2026, 11, 26))
    names = [file.name for file in files]
    assert names == [
        "delitos_2019.csv",
        "delitos_2020.csv",
        "open_meteo_caba_daily_2019.json",
        "open_meteo_caba_daily_2020.json",
        "comunas.geojson",
    ]
    assert (
        files[0].locations[1].endswith("mapa-del-delito/delitos_2019.csv")
    )  # the legacy release as fallback
    assert "start_date=2020-01-01" in files[3].locations[0] and "pressure_msl_mean" in files[3].locations[0]
    assert crime_urls(2021, "http://mirror/{year}.csv") == ("http://mirror/2021.csv",)


def test_source_none_fetches_nothing_and_a_missing_mirror_is_an_error(tmp_path):
    assert source_files(Settings(source="none")) == []
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        source_files(Settings(source=str(tmp_path / "absent")))


@pytest.mark.parametrize("served", [[], ["delitos_2019.csv"]])
def test_the_command_exits_non_zero_only_when_every_download_failed(http_folder, tmp_path, served):
    root, base = http_folder
    for name in served:
        (root / name).write_bytes(b"id,fecha\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRIME_WEATHER_")}
    env.update(
        CRIME_WEATHER_HOME=str(tmp_path),
        CRIME_WEATHER_SOURCE="official",
        CRIME_WEATHER_CRIME_YEARS="2019",
        CRIME_WEATHER_CRIME_URL_TEMPLATE=f"{base}/delitos_{{year}}.csv",
        CRIME_WEATHER_OPEN_METEO_URL=f"{base}/archive",
    )
    result = subprocess.run(
        [sys.executable, "-m", "crime_weather.sources.acquisition"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == (0 if served else 1), result.stdout + result.stderr
    assert f"{len(served)} fetched" in result.stdout and "failed: " in result.stdout
