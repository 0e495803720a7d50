"""GET /effects on the real app with a real registry: the champion's weather_effects.json, or why not."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from litestar.testing import TestClient

from crime_weather.modeling.effects.artifacts import log_effects
from crime_weather.modeling.effects.estimate import weather_effects
from crime_weather.modeling.effects.table import Effects
from crime_weather.modeling.registry.tracking import RunLog, client_for
from crime_weather.modeling.registry.versions import CHAMPION, alias_version
from crime_weather_tests.serving.conftest import register, runtime_for
from harness.models import tracking_uri
from harness.planted import planted_features
from harness.processes import free_port
from serving.app import create_app
from serving.effects_reader import EffectsReader
from serving.errors import Refused

LINEAGE = {"dagster_run_id": "dagster-run-1", "computed_at": "2026-11-29T18:00:00+00:00"}


@pytest.fixture(scope="module")
def effects() -> Effects:
    return weather_effects(
        pd.concat(planted_features(seed=5, first="2019-01-01", last="2019-12-31").values())
    )


def _log_beside_champion(uri: str, effects: Effects) -> str:
    """What the weather_effects asset does: the JSON and the plot into the champion's run."""
    client = client_for(uri)
    run_id = alias_version(client, "crime_weather", CHAMPION).run_id
    run = RunLog(client, run_id, client.get_run(run_id).info.experiment_id)
    log_effects(run, {**effects.as_json(), "lineage": {**LINEAGE, "run_id": run_id}}, b"\x89PNG")
    return run_id


def _registry_with_effects(folder: Path, effects: Effects) -> tuple[str, str]:
    uri = tracking_uri(folder)
    register(uri, seed=1)
    return uri, _log_beside_champion(uri, effects)


@pytest.fixture(scope="module")
def registry_with_effects(tmp_path_factory: pytest.TempPathFactory, effects: Effects) -> tuple[str, str]:
    """Champion v1 with its effects logged; tests only read it."""
    return _registry_with_effects(tmp_path_factory.mktemp("registry"), effects)


def test_a_champion_without_effects_is_a_404_that_says_why(client: TestClient):
    response = client.get("/effects")
    assert response.status_code == 404
    body = response.json()
    assert body["reason"] == "champion v1 has no weather effects yet"
    assert "weather_effects.json" in body["detail"] and "after each retrain" in body["detail"]


def test_the_champion_effects_are_served_as_logged(registry_with_effects, effects: Effects, home: Path):
    uri, run_id = registry_with_effects
    with TestClient(create_app(runtime_for(uri, home))) as client:
        response = client.get("/effects")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_version"], body["run_id"]) == ("1", run_id)
    assert body["dagster_run_id"] == "dagster-run-1" and body["computed_at"].startswith("2026-11-29T18:00")
    logged = effects.as_json()
    assert body["effects"] == logged["effects"]
    assert body["by_comuna"] == logged["by_comuna"]
    assert body["estimation"]["family"] == effects.info["family"]
    assert body["estimation"]["first_day"] == "2019-01-01" and body["estimation"]["caveats"]
    rain = next(row for row in body["effects"] if row["variable"] == "rain")
    assert rain["ci_high"] < 1 and rain["verdict"].startswith("fewer robberies")


def test_a_promotion_to_a_version_without_effects_is_noticed(tmp_path: Path, effects: Effects, home: Path):
    uri, _ = _registry_with_effects(tmp_path / "registry", effects)
    runtime = runtime_for(uri, home)
    with TestClient(create_app(runtime)) as client:
        assert client.get("/effects").status_code == 200
        register(uri, seed=2)  # v2 becomes champion: its run has no effects yet
        assert runtime.store.refresh()
        response = client.get("/effects")
    assert response.status_code == 404
    assert response.json()["reason"] == "champion v2 has no weather effects yet"


def test_effects_already_read_survive_an_unreachable_registry(
    registry_with_effects, home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # as `python -m serving` sets it
    uri, _ = registry_with_effects
    store = runtime_for(uri, home).store
    assert store.refresh()  # the champion, loaded as the app's poller does
    reader = EffectsReader(store, uri, ttl=0.0)  # every call asks MLflow again
    first = reader.current()
    reader.tracking_uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert reader.current() is first
    with pytest.raises(Refused) as refused:
        EffectsReader(store, reader.tracking_uri, ttl=0.0).current()  # nothing read before: 503
    assert refused.value.status_code == 503 and "cannot read weather_effects.json" in refused.value.detail


def test_the_effects_response_is_documented(client: TestClient):
    document = client.get("/schema/openapi.json").json()
    operation = document["paths"]["/effects"]["get"]
    assert {"200", "404", "503"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert {"effects", "by_comuna", "estimation", "model_version"} <= set(
        schemas["WeatherEffects"]["properties"]
    )
    assert "rate_ratio" in schemas["EffectRow"]["properties"]
