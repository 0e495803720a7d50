"""Validated observations -> the model's raw input frame -> expected robberies.

Runs in worker threads: building the frame and calling the pipeline are CPU work that must stay off
the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from msgspec.structs import astuple

from crime_weather.core.names import MODEL_INPUTS, WEATHER_FIELDS
from crime_weather.modeling.estimation.intervals import prediction_intervals
from serving.horizon import as_days
from serving.model_store import Champion
from serving.structs.requests import Observation
from serving.structs.responses import Interval, RowPrediction


def observations_frame(observations: Sequence[Observation]) -> pd.DataFrame:
    """The columns of `crime_weather.core.names.MODEL_INPUTS`: ISO date strings, int comunas, float
    weather with NaN for unknown (the same frame `modeling.estimation.pipeline.model_input` gives training).

    Built column-wise from the structs' tuples and handed to pandas as a dict in MODEL_INPUTS order,
    without `columns=`: pandas then skips its column selection pass, which cost ~150 µs a call (more
    than all the rest for a micro-batch; measured by benchmarks/request_path.py).
    """
    # One tuple per field, in Observation's field order, which is MODEL_INPUTS' (tested).
    fields = list(zip(*map(astuple, observations), strict=True)) or [()] * len(MODEL_INPUTS)
    columns: dict[str, np.ndarray] = {
        "date": np.array([day.isoformat() for day in fields[0]], dtype=object),
        "comuna": np.array(fields[1], dtype=np.int64),
    }
    for name, values in zip(WEATHER_FIELDS, fields[2:], strict=True):
        columns[name] = np.array(values, dtype=np.float64)  # None -> NaN
    return pd.DataFrame(columns, copy=False)


def predict_rows(champion: Champion, observations: Sequence[Observation]) -> list[RowPrediction]:
    """One model call for all `observations`; for each, in order, the expected count (>= 0), its
    80 % and 95 % prediction intervals (the pipeline's, calibrated per horizon) and its horizon (days
    after the champion's data end)."""
    frame = observations_frame(observations)
    values = np.asarray(champion.pipeline.predict(frame), dtype=np.float64)
    if values.shape != (len(observations),) or not np.isfinite(values).all():
        raise RuntimeError(f"model v{champion.version} returned unusable predictions (shape {values.shape})")
    values = np.clip(values, 0.0, None)
    low_80, high_80, low_95, high_95 = prediction_intervals(champion.pipeline, frame, values)
    horizons = champion.window.horizons(as_days([row.date for row in observations]))
    return [
        RowPrediction(value, Interval(a, b), Interval(c, d), horizon)
        for value, a, b, c, d, horizon in zip(
            values.tolist(),
            low_80.tolist(),
            high_80.tolist(),
            low_95.tolist(),
            high_95.tolist(),
            horizons.tolist(),
            strict=True,
        )
    ]
