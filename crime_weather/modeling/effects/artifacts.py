"""The weather effects in MLflow: `weather_effects.json` and the forest plot beside the champion's run.

Written by the `weather_effects` asset, read by the API (GET /effects). No statsmodels or matplotlib
here: the API's image has neither.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from crime_weather.modeling.registry.tracking import RunLog

EFFECTS_JSON = "weather_effects.json"
FOREST_PNG = "weather_effects.png"


def log_effects(run: RunLog, payload: dict[str, Any], forest_png: bytes) -> None:
    """Both artifacts into `run` (a finished champion run takes new artifacts like an open one)."""
    run.json(payload, EFFECTS_JSON)
    run.png(forest_png, FOREST_PNG)


def read_effects(client: MlflowClient, run_id: str) -> dict[str, Any] | None:
    """The run's weather effects, or None when it has none (yet)."""
    if EFFECTS_JSON not in {artifact.path for artifact in client.list_artifacts(run_id)}:
        return None
    with tempfile.TemporaryDirectory() as folder:
        return json.loads(Path(client.download_artifacts(run_id, EFFECTS_JSON, folder)).read_text())
