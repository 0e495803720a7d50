"""Settings per concern: the variable names are a contract (compose, .env.example, README), an empty
variable is the default, and each concern reads only its own variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from crime_weather.core.settings import (
    DEFAULT_WEATHER_PRIORITY,
    AcquisitionSettings,
    AutomationSettings,
    ForecastSettings,
    IngestionSettings,
    ServiceSettings,
    Settings,
    StorageSettings,
    TrackingSettings,
    TrainingSettings,
)
from serving.settings import ApiSettings

ROOT = Path(__file__).resolve().parents[2]

# Each concern and the variables it reads, with a valid value that differs from the default.
CONCERNS: dict[type[BaseModel], dict[str, str]] = {
    StorageSettings: {
        "HOME": "/srv/cw",
        "LANDING_URI": "s3://landing",
        "WAREHOUSE_URI": "s3://data",
        "S3_ENDPOINT_URL": "http://s3:8333",
    },
    AcquisitionSettings: {
        "SOURCE": "/mirror",
        "CRIME_YEARS": "2019, 2020",
        "CRIME_URL_TEMPLATE": "http://x/{year}.csv",
        "OPEN_METEO_URL": "http://meteo/archive",
        "COMUNAS_URL": "http://x/comunas.geojson",
    },
    IngestionSettings: {"WEATHER_PRIORITY": "cammesa,smn-daily", "MAX_BAD_ROW_SHARE": "0.5"},
    TrainingSettings: {
        "TEST_MONTHS": "2",
        "BACKTEST_FOLDS": "3",
        "CALIBRATION_ORIGINS": "4",
        "SEARCH_FOLDS": "2",
        "SEARCH_TRIALS": "7",
        "SEARCH_TIMEOUT_SECONDS": "20",
        "SEED": "9",
    },
    ForecastSettings: {
        "FORECAST_SOURCE": "none",
        "OPEN_METEO_FORECAST_URL": "http://meteo/forecast",
        "FORECAST_DAYS": "3",
        "FORECAST_TIMEOUT_SECONDS": "2.5",
        "MAX_HORIZON_DAYS": "30",
    },
    AutomationSettings: {
        "ACQUISITION_CRON": "0 5 * * *",
        "LANDING_POLL_SECONDS": "60",
        "AUTOMATION_SECONDS": "45",
        "FORECAST_CRON": "0 8 * * *",
        "PROMOTION_POLL_SECONDS": "40",
    },
    TrackingSettings: {
        "MLFLOW_TRACKING_URI": "http://mlflow:5001",
        "MLFLOW_UI_URL": "http://localhost:5001",
        "MLFLOW_EXPERIMENT": "exp",
        "REGISTERED_MODEL": "model",
    },
    ServiceSettings: {"DAGSTER_PORT": "3100", "MLFLOW_PORT": "5101"},
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in [n for n in os.environ if n.startswith("CRIME_WEATHER_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def own_fields(concern: type[BaseModel]) -> set[str]:
    """The fields a concern adds (TrackingSettings also has the storage fields its default needs)."""
    inherited = StorageSettings.model_fields if concern is TrackingSettings else {}
    return set(concern.model_fields) - set(inherited)


@pytest.mark.parametrize("concern", CONCERNS, ids=lambda concern: concern.__name__)
def test_each_concern_reads_its_variables_by_their_documented_names(concern, clean_env):
    variables = CONCERNS[concern]
    assert {name.lower() for name in variables} == own_fields(concern)
    for name, value in variables.items():
        clean_env.setenv(f"CRIME_WEATHER_{name}", value)
    read = concern()
    for name in variables:
        default = concern.model_fields[name.lower()].default
        assert getattr(read, name.lower()) != default, f"CRIME_WEATHER_{name} was not read"


@pytest.mark.parametrize("concern", CONCERNS, ids=lambda concern: concern.__name__)
def test_an_empty_variable_means_the_default(concern, clean_env):
    """compose passes optional settings as `${VAR:-}`: empty, not absent."""
    for name in CONCERNS[concern]:
        clean_env.setenv(f"CRIME_WEATHER_{name}", "")
    assert concern().model_dump() == concern.model_construct().model_dump()


def test_lists_are_comma_separated(clean_env):
    clean_env.setenv("CRIME_WEATHER_CRIME_YEARS", " 2019 , 2020,")
    clean_env.setenv("CRIME_WEATHER_WEATHER_PRIORITY", "cammesa, smn-daily")
    assert AcquisitionSettings().crime_years == [2019, 2020]
    assert IngestionSettings().weather_priority == ["cammesa", "smn-daily"]
    assert IngestionSettings.model_construct().weather_priority == list(DEFAULT_WEATHER_PRIORITY)


def test_a_bad_value_fails_only_the_concern_that_reads_it(clean_env):
    clean_env.setenv("CRIME_WEATHER_SEARCH_TRIALS", "0")
    clean_env.setenv("CRIME_WEATHER_HOME", "/srv/cw")
    with pytest.raises(ValidationError, match="search_trials"):
        TrainingSettings()
    assert StorageSettings().landing == "/srv/cw/landing"
    assert ForecastSettings().forecast_days >= 1


def test_paths_and_urls_are_derived_from_home_and_ports(clean_env, tmp_path: Path):
    clean_env.setenv("CRIME_WEATHER_HOME", str(tmp_path))
    storage, tracking, services = StorageSettings(), TrackingSettings(), ServiceSettings()
    assert storage.landing == str(tmp_path / "landing") and storage.dagster_home == tmp_path / "dagster"
    assert tracking.tracking_uri == storage.mlflow_backend_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert tracking.artifact_location == (tmp_path / "mlflow" / "artifacts").as_uri()
    assert services.mlflow_server_url == "http://127.0.0.1:5001"
    clean_env.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", "http://mlflow:5001")
    assert TrackingSettings().tracking_uri == "http://mlflow:5001"
    assert TrackingSettings().artifact_location is None, "a server keeps its own artifacts"


def test_the_whole_settings_are_every_concern_plus_the_apis():
    """`Settings` adds no field of its own but the API's: no concern is defined twice."""
    concerns = set().union(*(own_fields(concern) for concern in CONCERNS))
    assert set(Settings.model_fields) - concerns == {n for n in Settings.model_fields if n.startswith("api_")}
    for concern in CONCERNS:
        assert issubclass(Settings, concern)


def test_every_variable_compose_and_env_example_set_for_the_code_is_a_setting():
    """Names compose uses for itself (ports it publishes, image tags, ...) are not settings."""
    compose_only = {
        "BIND_ADDRESS",
        "DAGSTER_HOST_PORT",
        "MLFLOW_HOST_PORT",
        "API_HOST_PORT",
        "PUBLIC_HOST",
        "NETWORK",
        "IMAGE_TAG",
        "GIT_COMMIT",  # read by modeling.registry.versions, not a setting
        "RUN_MEMORY_LIMIT",
        "DOCKER_NETWORK",  # read by the Docker run launcher (docker/dagster.yaml)
    }
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / ".env.example").read_text()
    names = set(re.findall(r"CRIME_WEATHER_([A-Z0-9_]+)", text)) - compose_only
    assert names, "no CRIME_WEATHER_ variable found"
    api = {f"API_{name.upper()}" for name in ApiSettings.model_fields}  # the API's own (serving/settings.py)
    assert {name.lower() for name in names - api} <= set(Settings.model_fields)
