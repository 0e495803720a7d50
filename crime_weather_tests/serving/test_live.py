"""The API as deployed: `python -m serving` and a real `mlflow server`, both on loopback.

One story, in order (the tests share the servers): the API starts while MLflow is down and waits
(503); MLflow comes up with a champion and the API loads it; a promotion swaps the model without a
restart; concurrent callers get their own answers; MLflow stops and the API keeps serving. The access
log is on: its JSON lines are on the API's stdout.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from crime_weather_tests.serving.conftest import OBSERVATIONS, expected, random_observations, register
from harness.models import tracking_uri
from harness.processes import Server, api_server, free_port, mlflow_server, wait_http
from serving.model_store import ModelStore

pytestmark = pytest.mark.timeout(300)


@dataclass
class Platform:
    api: Server
    api_url: str
    mlflow: Server
    mlflow_url: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("live")
    register(tracking_uri(folder / "mlflow"), seed=1)  # the registry MLflow will serve: v1 champion
    mlflow_port, api_port = free_port(), free_port()
    mlflow_url, api_url = f"http://127.0.0.1:{mlflow_port}", f"http://127.0.0.1:{api_port}"
    api = api_server(
        mlflow_url,
        api_port,
        folder / "api.log",
        api_poll_seconds="0.5",
        api_registry_timeout_seconds="2",
        api_access_log="true",
    )
    platform = Platform(api.start(), api_url, mlflow_server(folder / "mlflow", mlflow_port), mlflow_url)
    try:
        yield platform
    finally:
        api.stop()
        platform.mlflow.stop()


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _batch(platform: Platform, observations: list[dict]) -> dict:
    response = httpx.post(
        f"{platform.api_url}/predict/batch", json={"observations": observations}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_api_starts_without_mlflow_and_serves_once_a_champion_appears(platform: Platform):
    try:
        health = wait_http(f"{platform.api_url}/health", timeout=120, ok=(503,)).json()
    except TimeoutError:
        pytest.fail(f"the API did not start:\n{platform.api.tail()}")
    assert health["status"] == "unavailable" and health["registry_reachable"] is False
    assert "registry unreachable" in health["reason"]
    assert httpx.post(f"{platform.api_url}/predict", json=OBSERVATIONS[0]).status_code == 503

    platform.mlflow.start()
    wait_http(f"{platform.mlflow_url}/health", timeout=120)
    ready = wait_http(f"{platform.api_url}/health", timeout=30).json()
    assert ready["status"] == "ready" and ready["model_version"] == "1" and ready["registry_reachable"]
    assert httpx.get(f"{platform.api_url}/model").json()["trained_months"] == [
        "2019-01",
        "2019-02",
        "2019-03",
    ]


def test_a_promotion_changes_model_and_predictions_without_a_restart(platform: Platform):
    pid = platform.api.pid
    before = _batch(platform, OBSERVATIONS)
    assert before["model_version"] == "1"

    assert register(platform.mlflow_url, seed=2, months=["2019-02", "2019-03", "2019-04"]) == "2"
    _wait_for(
        lambda: httpx.get(f"{platform.api_url}/model").json()["version"] == "2", 30, "the API to load v2"
    )
    model = httpx.get(f"{platform.api_url}/model").json()
    assert model["trained_months"] == ["2019-02", "2019-03", "2019-04"]

    after = _batch(platform, OBSERVATIONS)
    assert after["model_version"] == "2"
    v2 = ModelStore(platform.mlflow_url, "crime_weather")
    assert v2.refresh() and v2.champion.version == "2"
    assert [row["expected_robberies"] for row in after["predictions"]] == expected(v2, OBSERVATIONS)
    assert after["predictions"] != before["predictions"]
    assert platform.api.running() and platform.api.pid == pid  # same process: no restart


def test_concurrent_callers_each_get_their_own_rows_answer(platform: Platform):
    observations = [
        {"date": o.date.isoformat(), **{name: getattr(o, name) for name in o.__struct_fields__[1:]}}
        for o in random_observations(96, seed=7)
    ]
    one_by_one = [httpx.post(f"{platform.api_url}/predict", json=o).json() for o in observations]
    unbatched = [answer["expected_robberies"] for answer in one_by_one]
    assert [row["expected_robberies"] for row in _batch(platform, observations)["predictions"]] == unbatched

    async def concurrently() -> list[dict]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(base_url=platform.api_url, limits=limits, timeout=30) as client:
            responses = await asyncio.gather(*(client.post("/predict", json=o) for o in observations))
        assert all(response.status_code == 200 for response in responses)
        return [response.json() for response in responses]

    answers = asyncio.run(concurrently())
    assert [answer["expected_robberies"] for answer in answers] == unbatched
    assert {answer["model_version"] for answer in answers} == {"2"}


def test_with_mlflow_stopped_the_api_keeps_serving_and_says_so(platform: Platform):
    platform.mlflow.stop()
    _wait_for(
        lambda: httpx.get(f"{platform.api_url}/health").json()["registry_reachable"] is False,
        15,
        "/health to report the registry unreachable",
    )
    health = httpx.get(f"{platform.api_url}/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ready" and health.json()["model_version"] == "2"
    assert health.json()["registry_error"].startswith("registry unreachable")
    assert _batch(platform, OBSERVATIONS)["model_version"] == "2"
    single = httpx.post(f"{platform.api_url}/predict", json=OBSERVATIONS[0])
    assert single.status_code == 200 and single.json()["model_version"] == "2"
    assert httpx.get(f"{platform.api_url}/model").json()["version"] == "2"
    metrics = httpx.get(f"{platform.api_url}/metrics").text
    assert "crime_weather_registry_reachable 0.0" in metrics
    assert (
        'crime_weather_model_info{registered_model="crime_weather",run_id=' in metrics
        and 'version="2"' in metrics
    )
    failures = re.search(r'crime_weather_registry_poll_failures_total\{reason="unreachable"\} (\S+)', metrics)
    assert failures and float(failures[1]) >= 1


def test_the_access_log_is_one_json_line_per_request_on_stdout(platform: Platform):
    marker = uuid.uuid4().hex
    assert httpx.get(f"{platform.api_url}/health/live", params={"probe": marker}).status_code == 200
    bad = httpx.post(f"{platform.api_url}/predict", params={"probe": marker}, json={"comuna": 3})
    assert bad.status_code == 400
    lines = [json.loads(line) for line in platform.api.tail(200).splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["query"] == f"probe={marker}"]
    assert [(line["method"], line["route"], line["status"]) for line in mine] == [
        ("GET", "/health/live", 200),
        ("POST", "/predict", 400),
    ]
    assert all(line["client"] == "127.0.0.1" for line in mine)
