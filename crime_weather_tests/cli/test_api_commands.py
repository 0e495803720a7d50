"""`crime-weather` against a real API on loopback (`python -m serving` over a sqlite MLflow registry
with a champion), and against an address where nothing answers."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.models import register_model, tracking_uri
from harness.processes import BIN, SETTING_PREFIXES, api_server, free_port, wait_http

pytestmark = pytest.mark.timeout(300)
COMMAND = str(BIN / "crime-weather")


@dataclass
class Api:
    url: str
    home: Path


def crime_weather(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(SETTING_PREFIXES)}
    env["CRIME_WEATHER_HOME"] = str(home)
    return subprocess.run([COMMAND, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("cli-api")
    uri = tracking_uri(folder / "mlflow")
    assert register_model(uri, seed=1) == "1"
    port = free_port()
    server = api_server(uri, port, folder / "api.log").start()
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=120)
        yield Api(f"http://127.0.0.1:{port}", folder)
    finally:
        server.stop()


def test_help_lists_every_command(tmp_path: Path):
    done = crime_weather("--help", home=tmp_path)
    assert done.returncode == 0
    for command in ("run", "retrain", "predict", "forecast", "status", "scorecard"):
        assert f"  {command} " in done.stdout


def test_predict_json_is_the_apis_answer_and_nothing_else(api: Api):
    args = ["--api-url", api.url, "predict", "--date", "2019-04-02", "--comuna", "3"]
    done = crime_weather(*args, "--temp-mean", "21.5", "--json", home=api.home)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model_version"] == "1"
    assert answer["expected_robberies"] > 0
    assert answer["interval_95"]["low"] <= answer["expected_robberies"] <= answer["interval_95"]["high"]


def test_predict_refused_by_the_api_says_why_in_one_line(api: Api):
    done = crime_weather(
        "--api-url", api.url, "predict", "--date", "2019-04-02", "--comuna", "3", "--humidity-pct", "400",
        home=api.home,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "400" in done.stderr and "humidity_pct" in done.stderr


def test_forecast_without_an_issue_says_the_apis_reason(api: Api):
    done = crime_weather("--api-url", api.url, "forecast", "--days", "2", "--json", home=api.home)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "404" in done.stderr and "no forecast has been issued yet" in done.stderr


def test_status_json_names_the_champion_the_freshness_and_the_runs(api: Api):
    warehouse = api.home / "warehouse" / "raw_crime"
    warehouse.mkdir(parents=True, exist_ok=True)
    for month in ("2019-02", "2019-03"):
        (warehouse / f"{month}.parquet").write_bytes(b"")
    done = crime_weather("--api-url", api.url, "status", "--json", home=api.home)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["champion"]["version"] == "1"
    assert status["champion"]["data_months"] == 3
    assert status["champion"]["last_month"] == "2019-03"
    assert status["champion"]["data_through"] == "2019-03-31"
    assert status["freshness"]["newest_crime_month"] == "2019-03"
    assert status["freshness"]["age_days"] > 365
    assert "error" in status["runs"]  # no Dagster instance in this home


@pytest.mark.parametrize(
    "command",
    [
        ["predict", "--date", "2019-04-02", "--comuna", "3", "--json"],
        ["forecast", "--json"],
        ["scorecard", "--json"],
    ],
)
def test_an_unreachable_api_is_one_line_naming_the_url_and_exit_1(command: list[str], tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}"
    done = crime_weather("--api-url", url, *command, home=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"crime-weather: the API at {url} is unreachable (ConnectError): `crime-weather run` starts it"
    ]


def test_status_with_the_api_down_still_shows_the_rest(tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}"
    done = crime_weather("--api-url", url, "status", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"champion: unknown (the API at {url} is unreachable" in done.stdout
    assert "freshness: no crime month in the warehouse yet" in done.stdout
