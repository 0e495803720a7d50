"""/predict/batch answers exactly what the registered pipeline predicts, on a large random sample of
valid inputs: any date the API takes (the champion's evidence: conftest.FIRST_DAY..LAST_DAY), every comuna, weather anywhere in its bounds or null."""

from __future__ import annotations

import datetime
import random

import numpy as np
import pandas as pd
from litestar.testing import TestClient

from crime_weather.core.names import COMUNAS, WEATHER_BOUNDS
from crime_weather.modeling.estimation.pipeline import model_input
from crime_weather_tests.serving.conftest import FIRST_DAY, LAST_DAY
from serving.model_store import ModelStore

ROWS = 20_000


def valid_observations(count: int, seed: int) -> list[dict]:
    """JSON observations as clients send them: each row's share of unknown weather drawn at random
    (0 to 100 %), unknown as null or absent, values anywhere in bounds, the bounds themselves included."""
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    rows = []
    for _ in range(count):
        day = FIRST_DAY + datetime.timedelta(days=rng.randrange(span + 1))
        row: dict = {"date": day.isoformat(), "comuna": rng.choice(COMUNAS)}
        unknown = rng.random()
        for name, (low, high) in WEATHER_BOUNDS.items():
            draw = rng.random()
            if draw < unknown:
                if rng.random() < 0.5:
                    row[name] = None
            else:
                row[name] = rng.choice((low, high)) if draw > 0.98 else rng.uniform(low, high)
        rows.append(row)
    return rows


def test_the_batch_endpoint_equals_pipeline_predict_on_a_large_random_sample(
    client: TestClient, champion_v1: ModelStore
):
    observations = valid_observations(ROWS, seed=14)
    served = []
    limit = 10_000  # the default api_max_batch
    for start in range(0, ROWS, limit):
        response = client.post("/predict/batch", json={"observations": observations[start : start + limit]})
        assert response.status_code == 200, response.text[:500]
        body = response.json()
        assert body["model_version"] == "1"
        served += [row["expected_robberies"] for row in body["predictions"]]

    frame = model_input(pd.DataFrame(observations))
    expected = np.clip(champion_v1.champion.pipeline.predict(frame), 0, None)
    assert len(served) == ROWS
    np.testing.assert_allclose(np.array(served), expected, rtol=1e-9, atol=1e-9)
    assert np.unique(expected).size > ROWS / 10  # the sample spans many different predictions
