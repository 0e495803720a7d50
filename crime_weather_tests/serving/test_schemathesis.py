"""Property-based: schemathesis generates valid and invalid requests for every operation of
/schema/openapi.json against the real server (uvicorn on loopback): no 5xx, responses as documented."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from litestar.testing import TestClient
from schemathesis.config import SchemathesisConfig

from crime_weather.core.settings import Settings
from crime_weather_tests.serving.conftest import api_settings, runtime_for
from harness.processes import free_port, wait_http
from serving.app import create_app
from serving.runtime import Runtime


@pytest.fixture(scope="module")
def base_url(registry: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(runtime_for(registry, tmp_path_factory.mktemp("home"), api_settings(max_batch=50)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="api-under-test", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", timeout=60)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


# The schema the app serves, built at collection time (schemathesis' lazy fixture loader does not work
# with pytest 9); the first test proves it is the document the live server serves.
OPENAPI = (
    TestClient(create_app(Runtime.from_settings(Settings(mlflow_tracking_uri="sqlite:///:memory:"))))
    .get("/schema/openapi.json")
    .json()
)
# A schema-valid date outside the champion's evidence (before its data, or beyond max_horizon_days
# after them) is refused with the documented 422: the window depends on the champion served, so no
# static schema can state it. Valid data is otherwise accepted as schemathesis expects by default.
CONFIG = SchemathesisConfig.from_str(
    """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
)
schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)


def test_the_schema_under_test_is_the_one_served(base_url: str):
    assert httpx.get(f"{base_url}/schema/openapi.json").json() == OPENAPI


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_and_never_fails_with_5xx(case: schemathesis.Case, base_url: str) -> None:
    # Every built-in check: no 5xx, documented status codes and content types, response schemas,
    # valid data accepted and invalid data refused.
    case.call_and_validate(base_url=base_url)
