"""`make run`, as a user runs it: a fresh home, the shared data as mirror, nothing clicked.

It must end with the API serving a champion, Dagster's GraphQL showing the lineage from the raw
assets to champion_model, a forecast served as soon as a forecast file lands (offline: no forecast
API), and SIGTERM stopping every process it started.
"""

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from crime_weather.sources.forecast import city_day
from crime_weather_tests import builders
from crime_weather_tests.platform import kill_processes_with_env, processes_with_env, wait_for
from harness.processes import ROOT, clean_environment, default_signals

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

LINEAGE = {
    "daily_features": {"raw_crime", "raw_weather"},
    "train_test_split": {"daily_features"},
    "challenger_model": {"train_test_split"},
    "champion_model": {"challenger_model", "train_test_split"},
    "weather_effects": {"daily_features", "champion_model"},
}


def processes_of(home: Path) -> list[int]:
    """Every live process started with this CRIME_WEATHER_HOME (all of make run's children inherit it)."""
    return processes_with_env("CRIME_WEATHER_HOME", str(home))


def _graphql(query: str) -> dict:
    response = httpx.post("http://127.0.0.1:3000/graphql", json={"query": query}, timeout=30)
    response.raise_for_status()
    return response.json()["data"]


@pytest.fixture(scope="module")
def platform(shared_raw, tmp_path_factory):
    home = tmp_path_factory.mktemp("make-run-home")
    env = clean_environment()
    env.update(  # a short retrain: a few trials, a 3-month backtest (benchmarks/backtest.py runs the default)
        CRIME_WEATHER_HOME=str(home),
        CRIME_WEATHER_SOURCE=str(shared_raw),
        CRIME_WEATHER_SEARCH_TRIALS="4",
        CRIME_WEATHER_SEARCH_FOLDS="2",
        CRIME_WEATHER_BACKTEST_FOLDS="3",
        CRIME_WEATHER_CALIBRATION_ORIGINS="3",
        CRIME_WEATHER_FORECAST_SOURCE="none",  # offline: forecasts come from files dropped into landing
    )
    log = (home.parent / "make-run.log").open("wb")
    make = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=default_signals,
    )
    try:
        yield home, make
    finally:
        try:
            if make.poll() is None:
                make.send_signal(signal.SIGTERM)
                make.wait(timeout=60)
        finally:
            kill_processes_with_env("CRIME_WEATHER_HOME", str(home))  # nothing left behind, even on failure
            log.close()


def test_make_run_serves_a_champion_trained_on_the_shared_data(platform):
    home, make = platform
    deadline, model = time.monotonic() + 600, None
    while model is None and time.monotonic() < deadline:
        assert make.poll() is None, f"make run exited with {make.returncode}"
        try:
            response = httpx.get("http://127.0.0.1:8800/model", timeout=5)
            model = response.json() if response.status_code == 200 else None
        except httpx.HTTPError:
            pass
        time.sleep(3)
    assert model, "make run: no champion served within 10 minutes"
    assert model["version"] and model["dagster_run_id"]
    assert model["trained_months"][0] == "2016-01" and len(model["trained_months"]) == 50  # every month
    assert model["history_end"] == "2020-02-29"  # later dates get the level known then
    assert len(list((home / "warehouse" / "daily_features").glob("*.parquet"))) == 50
    prediction = httpx.post(
        "http://127.0.0.1:8800/predict", json={"date": "2020-03-02", "comuna": 1}, timeout=10
    ).json()
    assert prediction["expected_robberies"] > 0 and prediction["model_version"] == model["version"]
    assert (
        home / "landing" / "caba_robos_2017_2020feb_rafzamb.csv.gz"
    ).exists()  # acquisition from the mirror


def test_make_run_serves_the_champion_weather_effects_without_a_click(platform):
    _, make = platform
    model = httpx.get("http://127.0.0.1:8800/model", timeout=5).json()
    deadline, response = time.monotonic() + 300, None
    while time.monotonic() < deadline:  # weather_effects runs right after the champion is decided
        assert make.poll() is None, f"make run exited with {make.returncode}"
        response = httpx.get("http://127.0.0.1:8800/effects", timeout=30)
        if response.status_code == 200:
            break
        time.sleep(3)
    assert response is not None and response.status_code == 200, response.text if response else "no answer"
    body = response.json()
    assert body["model_version"] == model["version"]
    rain = next(row for row in body["effects"] if row["variable"] == "rain")
    assert rain["ci_high"] < 1  # the shared data's answer: rain lowers robberies
    assert body["estimation"]["excluded_months"][0] == "2016-01" and len(body["by_comuna"]) == 15


def test_graphql_shows_the_lineage_from_raw_files_to_the_champion(platform):
    nodes = _graphql("{ assetNodes { assetKey { path } dependencyKeys { path } } }")["assetNodes"]
    graph = {
        "/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]} for n in nodes
    }
    for asset, upstream in LINEAGE.items():
        assert graph[asset] == upstream
    assert graph["raw_crime"] == {"landing_crime_files"} and graph["raw_weather"] == {"landing_weather_files"}
    materialized = _graphql(
        '{ assetOrError(assetKey: {path: ["champion_model"]}) { ... on Asset { assetMaterializations(limit: 1) { runId } } } }'
    )
    assert materialized["assetOrError"]["assetMaterializations"]


def test_a_forecast_file_dropped_into_landing_is_served_as_the_forecast(platform):
    home, make = platform
    assert httpx.get("http://127.0.0.1:8800/forecast", timeout=5).status_code == 404  # none issued yet
    today = city_day(time.time())
    (home / "landing" / "pronostico.json").write_bytes(builders.forecast_json(today))

    def served() -> dict | None:
        assert make.poll() is None, f"make run exited with {make.returncode}"
        response = httpx.get("http://127.0.0.1:8800/forecast", timeout=5)
        return response.json() if response.status_code == 200 else None

    forecast = wait_for(served, timeout=180, what="a forecast served by the API", every=3)
    model = httpx.get("http://127.0.0.1:8800/model", timeout=5).json()
    assert forecast["issue_date"] == str(today) and forecast["model_version"] == model["version"]
    assert len(forecast["rows"]) == 7 * 15 and forecast["weather_source"].endswith("pronostico.json")
    assert (home / "warehouse" / "robbery_forecast" / f"{today}.parquet").exists()


def test_sigterm_stops_every_process_it_started(platform):
    home, make = platform
    started = processes_of(home)
    assert len(started) >= 6  # make, the launcher, MLflow, dagster dev and its children, the API
    make.send_signal(signal.SIGTERM)
    assert make.wait(timeout=90) is not None
    wait_for(lambda: not processes_of(home), timeout=30, what="every process of make run gone", every=1)
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:8800/health", timeout=2)
    time.sleep(0.5)
    assert processes_of(home) == []
