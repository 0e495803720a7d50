"""Validated observations -> the model's raw input frame -> expected robberies.

Runs in worker threads: building the frame and calling the pipeline are CPU work that must stay off
the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crime_weather.core.names import MODEL_INPUTS, WEATHER_FIELDS
from serving.model_store import Champion
from serving.structs import Observation


def observations_frame(observations: Sequence[Observation]) -> pd.DataFrame:
    """The columns of `crime_weather.core.names.MODEL_INPUTS`: ISO date strings, int comunas, float
    weather with NaN for unknown (the same frame `modeling.pipeline.model_input` gives training)."""
    count = len(observations)
    columns: dict[str, object] = {
        "date": [observation.date.isoformat() for observation in observations],
        "comuna": np.fromiter(
            (observation.comuna for observation in observations), dtype=np.int64, count=count
        ),
    }
    for name in WEATHER_FIELDS:
        columns[name] = np.array(
            [getattr(observation, name) for observation in observations], dtype=np.float64
        )
    return pd.DataFrame(columns, columns=list(MODEL_INPUTS))


def predict_rows(champion: Champion, observations: Sequence[Observation]) -> list[float]:
    """One model call for all `observations`; one non-negative expected count each, in order."""
    values = np.asarray(champion.pipeline.predict(observations_frame(observations)), dtype=np.float64)
    if values.shape != (len(observations),) or not np.isfinite(values).all():
        raise RuntimeError(f"model v{champion.version} returned unusable predictions (shape {values.shape})")
    return np.clip(values, 0.0, None).tolist()
