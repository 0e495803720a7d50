"""Bad input: a 400 (or 413) problem details naming the field and the reason, and the model never called."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient

from crime_weather.core.names import WEATHER_BOUNDS
from crime_weather_tests.serving.conftest import api_settings, runtime_for
from serving.app import create_app

GOOD = {"date": "2019-03-24", "comuna": 3}


class Recorder:
    """A stand-in model that records every frame it is asked about."""

    def __init__(self) -> None:
        self.frames: list[int] = []

    def predict(self, frame):
        self.frames.append(len(frame))
        return [1.0] * len(frame)


@pytest.fixture
def model() -> Recorder:
    return Recorder()


@pytest.fixture
def guarded(registry: str, home: Path, model: Recorder) -> Iterator[TestClient]:
    """The app with small limits; after each test the model must not have seen any input."""
    runtime = runtime_for(registry, home, api_settings(max_body_bytes=4096, max_batch=5))
    with TestClient(create_app(runtime)) as client:
        store = runtime.store
        store.champion = replace(store.champion, pipeline=model)
        yield client
    if not getattr(client, "valid_input_sent", False):
        assert model.frames == [], "bad input reached the model"


def _post(client: TestClient, path: str, body: bytes | dict) -> tuple[int, dict]:
    if isinstance(body, dict):
        response = client.post(path, json=body)
    else:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code  # RFC 9457: the members every problem has
    assert set(body) == {"type", "title", "status", "detail", "field", "reason", "errors"}
    return response.status_code, body


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({**GOOD, "comuna": 99}, "comuna", "Expected `int` <= 15"),
        ({**GOOD, "comuna": 0}, "comuna", "Expected `int` >= 1"),
        ({**GOOD, "temp_mean": 80}, "temp_mean", "Expected `float` <= 50.0"),
        ({**GOOD, "precipitation_mm": -1}, "precipitation_mm", "Expected `float` >= 0.0"),
        ({**GOOD, "humidity_pct": 101}, "humidity_pct", "Expected `float` <= 100.0"),
        ({**GOOD, "pressure_hpa": 10}, "pressure_hpa", "Expected `float` >= 850.0"),
        ({**GOOD, "date": "2019-02-30"}, "date", "Invalid RFC3339 encoded date"),
        ({**GOOD, "date": "2019-2-3"}, "date", "Invalid RFC3339 encoded date"),
        ({**GOOD, "date": "24/03/2019"}, "date", "Invalid RFC3339 encoded date"),
        ({**GOOD, "date": "1800-01-01"}, "date", "`date` must be from 1900-01-01 to 2100-12-31"),
        ({**GOOD, "comuna": "3"}, "comuna", "Expected `int`, got `str`"),
        ({**GOOD, "comuna": 3.5}, "comuna", "Expected an integer"),
        ({**GOOD, "comuna": True}, "comuna", "Expected `int`, got `bool`"),
        ({**GOOD, "comuna": None}, "comuna", "Expected `int`, got `null`"),
        ({**GOOD, "temp_mean": "warm"}, "temp_mean", "Expected `float | null`, got `str`"),
        ({**GOOD, "date": 20190324}, "date", "Expected `date`, got `int`"),
        ({**GOOD, "wind": 3.0}, "wind", "Object contains unknown field `wind`"),
        ({"comuna": 3}, "date", "Object missing required field `date`"),
        (b"[1, 2]", None, "Expected `object`, got `array`"),
        (b'{"date": "2019-03-24", "comuna": 3', None, "JSON is malformed: Input data was truncated"),
        (
            b'{"date": "2019-03-24", "comuna": 3, "temp_mean": NaN}',
            None,
            "JSON is malformed: invalid character",
        ),
        (b"", None, "empty body"),
    ],
)
def test_bad_single_observation_is_a_400_naming_field_and_reason(guarded, body, field, reason):
    status, error = _post(guarded, "/predict", body)
    assert status == 400
    assert (error["type"], error["title"]) == ("urn:crime-weather:problem:invalid-input", "Invalid input")
    assert error["field"] == field
    assert error["reason"].startswith(reason), error
    if field:
        assert f"`{field}`" in error["detail"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"observations": []}, "observations", "Expected `array` of length >= 1"),
        ({"observations": [GOOD, {**GOOD, "comuna": 16}]}, "observations[1].comuna", "Expected `int` <= 15"),
        ({"observations": [{**GOOD, "date": "1899-12-31"}]}, "observations[0].date", "`date` must be from"),
        ({"observations": [GOOD], "extra": 1}, "extra", "Object contains unknown field `extra`"),
        ({"observations": GOOD}, "observations", "Expected `array`, got `object`"),
        ({}, "observations", "Object missing required field `observations`"),
        (b"", None, "empty body"),
    ],
)
def test_bad_batch_is_a_400_naming_field_and_reason(guarded, body, field, reason):
    status, error = _post(guarded, "/predict/batch", body)
    assert status == 400
    assert error["field"] == field and error["reason"].startswith(reason), error


@pytest.mark.parametrize("name", sorted(WEATHER_BOUNDS))
def test_weather_bounds_are_the_ones_of_names_py(guarded, name):
    low, high = WEATHER_BOUNDS[name]
    for value in (low - 0.01, high + 0.01):
        status, error = _post(guarded, "/predict", {**GOOD, name: value})
        assert (status, error["field"]) == (400, name)
    schema = guarded.get("/schema/openapi.json").json()["components"]["schemas"]["Observation"]
    assert (schema["properties"][name]["minimum"], schema["properties"][name]["maximum"]) == (low, high)


def test_an_oversized_body_is_refused_with_the_limit(guarded):
    padding = " " * 5000
    status, error = _post(guarded, "/predict", f'{{"date": "2019-03-24", "comuna": 3{padding}}}'.encode())
    assert status == 413
    assert error["type"] == "urn:crime-weather:problem:too-large"
    assert error["detail"] == "request body is larger than the limit of 4096 bytes"


def test_an_oversized_batch_is_refused_with_the_limit(guarded):
    status, error = _post(guarded, "/predict/batch", {"observations": [GOOD] * 6})
    assert status == 413
    assert error["type"] == "urn:crime-weather:problem:too-large"
    assert error["field"] == "observations"
    assert error["reason"] == "6 observations; a batch holds at most 5"


def test_valid_input_does_reach_the_recording_model(guarded, model):
    # The recorder is wired: valid input reaches it (so an empty record above means bad input stopped).
    guarded.valid_input_sent = True
    assert guarded.post("/predict/batch", json={"observations": [GOOD, GOOD]}).status_code == 200
    assert guarded.post("/predict", json=GOOD).json() == {
        "expected_robberies": 1.0,
        "model_version": "1",
        "interval_80": {"low": 0, "high": 2},  # Poisson(1): P(X <= 0) = 0.37 >= 0.1, P(X <= 2) = 0.92 >= 0.9
        "interval_95": {"low": 0, "high": 3},  # P(X <= 3) = 0.98 >= 0.975
        "horizon_days": -7,  # GOOD is 2019-03-24; the champion's data end 2019-03-31
    }
    assert model.frames == [2, 1]


def test_integer_bounds_read_as_integers(guarded):
    assert _post(guarded, "/predict", {**GOOD, "comuna": 99})[1]["reason"] == "Expected `int` <= 15"
    assert _post(guarded, "/predict", {**GOOD, "comuna": 0})[1]["reason"] == "Expected `int` >= 1"
    # A weather bound stays a float, as the field is.
    assert _post(guarded, "/predict", {**GOOD, "temp_mean": 80})[1]["reason"] == "Expected `float` <= 50.0"
