"""How the processes of the embedded platform see each other: one environment, derived from settings.

`make run` gives it to every service it starts, and `make retrain` to the run it launches, so both
talk to the same Dagster instance and the same MLflow server without rebuilding a path or a URL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from crime_weather.core.settings import PlatformSettings, StorageSettings

ROOT = Path(__file__).resolve().parents[2]
INSTANCE_CONFIG = ROOT / "dagster.yaml"


def tracking_uri(settings: PlatformSettings) -> str:
    """MLflow as the platform's processes reach it: the configured URI, else the server make run starts."""
    return settings.mlflow_tracking_uri or settings.mlflow_server_url


def platform_environment(settings: PlatformSettings) -> dict[str, str]:
    """The variables every process of the embedded platform gets, on top of the caller's environment."""
    return {
        "CRIME_WEATHER_HOME": str(settings.root),
        "DAGSTER_HOME": str(settings.dagster_home),
        "CRIME_WEATHER_MLFLOW_TRACKING_URI": tracking_uri(settings),
        # Progress bars for artifact downloads only clutter service logs.
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "PYTHONUNBUFFERED": "1",
    }


def prepare_home(settings: StorageSettings) -> None:
    """Create the embedded state folders and the Dagster instance, its storage included: processes
    that start at once on a fresh home (two `make retrain`s, the daemon and the webserver) would
    otherwise race to create the same SQLite tables."""
    for folder in (settings.dagster_home, settings.logs, settings.mlflow_artifacts):
        folder.mkdir(parents=True, exist_ok=True)
    for uri in (settings.landing, settings.warehouse):
        if "://" not in uri:
            Path(uri).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, settings.dagster_home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(settings.dagster_home)):
        pass  # constructing it creates and stamps the run, event-log and schedule databases
