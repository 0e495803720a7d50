"""Fixtures for the API: a real sqlite MLflow registry with a champion, the app on a TestClient."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from litestar.testing import TestClient

from crime_weather.core.names import MAX_HORIZON_DAYS, WEATHER_BOUNDS
from crime_weather.core.settings import Settings
from crime_weather.modeling.estimation.pipeline import model_input
from harness.models import register_model, tracking_uri
from serving.app import create_app
from serving.model_store import ModelStore
from serving.runtime import Runtime
from serving.settings import ApiSettings
from serving.structs.requests import Observation

# Inside the champion's evidence: its data run 2019-01-01..2019-03-31 (harness.models.register_model),
# and it is trusted up to MAX_HORIZON_DAYS later (2019-10-01); other dates are refused (422).
FIRST_DAY, DATA_THROUGH = datetime.date(2019, 1, 1), datetime.date(2019, 3, 31)
LAST_DAY = DATA_THROUGH + datetime.timedelta(days=MAX_HORIZON_DAYS)

OBSERVATIONS = [
    {"date": "2019-03-24", "comuna": 3, "temp_mean": 21.5, "precipitation_mm": 0.0},
    {
        "date": "2019-05-25",
        "comuna": 1,
        "temp_mean": 9.0,
        "temp_min": 4.0,
        "precipitation_mm": 12.5,
    },  # holiday
    {"date": "2019-07-09", "comuna": 15},  # holiday, no weather at all
    {"date": "2019-09-30", "comuna": 8, "temp_mean": None, "humidity_pct": 80.0, "pressure_hpa": 1012.0},
    {"date": "2019-02-14", "comuna": 12, "temp_mean": 27.0, "wind_speed_kmh": 30.0, "temp_max": 33.0},
]


def register(uri: str, **kwargs: object) -> str:
    return register_model(uri, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real MLflow registry (sqlite) whose `crime_weather@champion` is version 1."""
    uri = tracking_uri(tmp_path_factory.mktemp("registry"))
    assert register(uri, seed=1) == "1"
    return uri


@pytest.fixture(scope="session")
def champion_v1(registry: str) -> ModelStore:
    """Version 1 loaded on its own, to compute what the API should answer."""
    store = ModelStore(registry, "crime_weather")
    assert store.refresh()
    return store


def expected(store: ModelStore, observations: list[dict]) -> list[float]:
    """The champion's predictions for JSON observations, through training's own `model_input`."""
    frame = model_input(pd.DataFrame(observations))
    return [float(value) for value in store.champion.pipeline.predict(frame)]


def api_settings(**overrides: object) -> ApiSettings:
    """The API's settings in tests: no poll in the background (a test refreshes the store itself)."""
    values = {"poll_seconds": 3600.0, **overrides}
    return ApiSettings(**values)  # type: ignore[arg-type]


def runtime_for(uri: str, home: Path, api: ApiSettings | None = None, **platform: object) -> Runtime:
    """What an app over the registry `uri` holds; `platform`: settings shared with the platform."""
    settings = Settings(home=home, mlflow_tracking_uri=uri, **platform)  # type: ignore[arg-type]
    return Runtime.from_settings(settings, api or api_settings())


@pytest.fixture
def runtime(registry: str, home: Path) -> Runtime:
    return runtime_for(registry, home)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def random_observations(count: int, seed: int = 0) -> list[Observation]:
    """Valid observations inside every test champion's evidence (2019-02-01..LAST_DAY), all comunas,
    weather within bounds (30 % unknown)."""
    rng = random.Random(seed)
    observations = []
    for _ in range(count):
        weather = {
            name: None if rng.random() < 0.3 else rng.uniform(low, high)
            for name, (low, high) in WEATHER_BOUNDS.items()
        }
        # From February: inside test_live's v2 (trained on 2019-02..04) as well as v1.
        first = datetime.date(2019, 2, 1)
        day = first + datetime.timedelta(days=rng.randrange((LAST_DAY - first).days + 1))
        observations.append(Observation(date=day, comuna=rng.randint(1, 15), **weather))
    return observations
