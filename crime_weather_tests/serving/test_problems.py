"""Every error path answers RFC 9457 problem details, and the OpenAPI document says so."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient

from crime_weather_tests.serving.conftest import OBSERVATIONS, runtime_for
from harness.models import tracking_uri
from serving.app import create_app
from serving.runtime import Runtime

PROBLEM = "application/problem+json"
MEMBERS = {"type", "title", "status", "detail", "field", "reason", "errors"}


def _problem(response) -> dict:
    assert response.headers["content-type"] == PROBLEM, response.text
    body = response.json()
    assert set(body) == MEMBERS and body["status"] == response.status_code
    return body


def test_an_unknown_path_is_a_404_problem(client: TestClient):
    body = _problem(client.get("/no/such/route"))
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
        "field": None,
        "reason": None,
        "errors": None,
    }


def test_a_wrong_method_is_a_405_problem_with_the_allowed_ones(client: TestClient):
    response = client.put("/predict", json=OBSERVATIONS[0])
    body = _problem(response)
    assert (body["type"], body["title"], body["status"]) == ("about:blank", "Method Not Allowed", 405)
    assert "POST" in response.headers["allow"]


class Broken:
    """A model that answers NaN: the API must refuse to serve it, as a 500, not as a number."""

    def predict(self, frame):
        return [math.nan] * len(frame)


def test_a_server_error_is_a_500_problem_that_says_no_more_and_is_logged(
    client: TestClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
):
    store = runtime.store
    store.champion = replace(store.champion, pipeline=Broken())
    for path, body in (("/predict", OBSERVATIONS[0]), ("/predict/batch", {"observations": OBSERVATIONS})):
        problem = _problem(client.post(path, json=body))
        assert (problem["type"], problem["title"], problem["status"]) == (
            "about:blank",
            "Internal Server Error",
            500,
        )
        assert "unusable" not in problem["detail"]  # the cause stays in the log
        assert f"POST {path} failed" in caplog.text and "returned unusable predictions" in caplog.text


def test_no_model_is_a_503_problem(tmp_path: Path, home: Path):
    runtime = runtime_for(tracking_uri(tmp_path / "empty-registry"), home)
    with TestClient(create_app(runtime)) as client:
        for response in (client.post("/predict", json=OBSERVATIONS[0]), client.get("/model")):
            body = _problem(response)
            assert (body["status"], body["type"]) == (503, "urn:crime-weather:problem:no-model")
            assert body["title"] == "No model loaded"
            assert "no model is loaded" in body["detail"] and body["reason"] == body["detail"]


def test_the_openapi_document_describes_every_error_as_problem_details(client: TestClient):
    document = client.get("/schema/openapi.json").json()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == MEMBERS
    documented = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {code: spec for code, spec in operation["responses"].items() if int(code) >= 400}
            assert "500" in errors, f"{method} {path} does not document its 500"
            if path.startswith("/health") and "503" in errors:  # readiness answers its own report
                errors.pop("503")
            for code, spec in errors.items():
                assert list(spec["content"]) == [PROBLEM], f"{method} {path} {code}"
                assert spec["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
                documented += 1
    assert documented >= 12
    for path in ("/predict", "/predict/batch"):
        assert {"400", "413", "503", "500"} <= set(document["paths"][path]["post"]["responses"])


def test_a_bad_query_parameter_is_a_400_problem_naming_it(client: TestClient):
    # No route of the API takes query parameters yet; one registered on the real app shows how
    # Litestar's own validation errors come out.
    from litestar import get
    from litestar.params import FromQuery

    @get("/test-only/days", sync_to_thread=False)
    def days(days: FromQuery[int]) -> int:
        return days

    client.app.register(days)
    assert client.get("/test-only/days", params={"days": 3}).json() == 3
    body = _problem(client.get("/test-only/days", params={"days": "three"}))
    assert (body["status"], body["type"], body["field"]) == (
        400,
        "urn:crime-weather:problem:invalid-input",
        "days",
    )
    assert body["reason"] and "`days`" in body["detail"]
