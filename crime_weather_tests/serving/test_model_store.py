"""Following the champion in a real (sqlite) registry: swaps, errors that keep the last good model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor

from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather_tests.serving.conftest import OBSERVATIONS, register
from harness.models import promote_foreign_model, tracking_uri
from harness.processes import ROOT, free_port
from serving.model_store import ModelStore


@pytest.fixture
def own_registry(tmp_path: Path) -> str:
    uri = tracking_uri(tmp_path / "registry")
    register(uri, seed=1)
    return uri


def test_a_promotion_swaps_the_model_and_old_references_keep_working(own_registry: str):
    store = ModelStore(own_registry, "crime_weather")
    assert store.refresh() and store.champion.version == "1"
    in_flight = store.champion  # what a request started on
    frame = model_input(pd.DataFrame(OBSERVATIONS))
    before = list(in_flight.pipeline.predict(frame))

    register(own_registry, seed=2)  # v2 becomes champion
    assert store.refresh() and store.champion.version == "2"
    assert not store.refresh()  # nothing moved: no reload
    assert store.champion.info.run_id != in_flight.info.run_id
    assert list(store.champion.pipeline.predict(frame)) != before
    assert list(in_flight.pipeline.predict(frame)) == before  # untouched by the swap
    assert store.registry.reachable is True and store.problem is None


def test_an_unreachable_registry_keeps_the_last_good_model(
    own_registry: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # as `python -m serving` sets it
    store = ModelStore(own_registry, "crime_weather")
    assert store.refresh()
    loaded = store.champion
    store.tracking_uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert not store.refresh()
    assert store.champion is loaded
    assert store.registry.reachable is False
    assert store.registry.error.startswith("registry unreachable:")


def test_an_untrusted_version_is_refused_and_the_last_good_model_kept(own_registry: str):
    store = ModelStore(own_registry, "crime_weather")
    assert store.refresh()
    promote_foreign_model(
        own_registry, DummyRegressor().fit([[0.0]], [1.0]), serialization_format="cloudpickle"
    )
    assert not store.refresh()
    assert store.champion.version == "1"
    assert store.registry.reachable is True
    assert "cannot load crime_weather v2" in store.registry.error and "only skops" in store.registry.error


def test_a_store_without_a_champion_never_loads_anything(tmp_path: Path):
    store = ModelStore(tracking_uri(tmp_path / "empty"), "crime_weather")
    assert not store.refresh()
    assert store.champion is None
    assert store.problem == "no version of 'crime_weather' has the alias @champion yet"


def test_no_model_file_ships_in_the_repository():
    shipped = [
        path
        for pattern in ("*.skops", "*.pkl", "*.pickle", "*.joblib", "MLmodel")
        for path in ROOT.rglob(pattern)
        if not {".venv", ".data", ".git"} & set(path.relative_to(ROOT).parts)
    ]
    assert shipped == []


def test_serving_never_imports_dagster():
    code = "import sys, serving.app, serving.__main__; print(sorted(m for m in sys.modules if m.startswith('dagster')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
