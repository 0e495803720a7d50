"""comuna_boundaries in a real Dagster instance: validated, stored where the API reads it, run on landing."""

import json
import os
import time

import boto3
import dagster as dg
import pytest

from crime_weather.core.storage import LocalStore, open_store
from crime_weather.orchestration.assets.boundaries import comuna_boundaries
from crime_weather.orchestration.resources import LandingZone, WarehouseIOManager
from crime_weather.orchestration.sensors.landing import encode_cursor
from crime_weather.sources.boundaries import WAREHOUSE_KEY
from crime_weather.sources.catalog import REJECTED, LandingFile
from crime_weather_tests.comunas import shared_comunas, synthetic_comunas, to_bytes
from crime_weather_tests.dagster_helpers import evaluate_landing_sensor, execute, materialize


@pytest.fixture
def instance(home):
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def _drop(path, data: bytes, stamp: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (stamp, stamp))


def _metadata(instance: dg.DagsterInstance) -> dict[str, object]:
    event = instance.get_latest_materialization_event(dg.AssetKey("comuna_boundaries"))
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


def test_materializes_into_a_temp_warehouse(home, instance, landing):
    _drop(landing / "geo" / "comunas.geojson", to_bytes(synthetic_comunas(official=True)), time.time())
    result = dg.materialize(
        [comuna_boundaries],
        instance=instance,
        resources={
            "landing": LandingZone(uri=str(landing)),
            "warehouse": WarehouseIOManager(uri=str(home / "warehouse")),
        },
    )
    assert result.success
    stored = json.loads((home / "warehouse" / WAREHOUSE_KEY).read_bytes())
    assert [f["properties"]["comuna"] for f in stored["features"]] == list(range(1, 16))
    metadata = _metadata(instance)
    assert metadata["comunas"] == 15 and metadata["vertices"] == 60
    assert metadata["total_area_km2"] == pytest.approx(203.0, abs=0.2)
    assert metadata["source_file"] == "geo/comunas.geojson"


def test_a_bad_file_fails_the_run_and_keeps_the_stored_boundaries(home, instance, landing):
    _drop(landing / "good.geojson", to_bytes(synthetic_comunas()), time.time() - 60)
    assert materialize(instance, "comuna_boundaries").success
    before = (home / "warehouse" / WAREHOUSE_KEY).read_bytes()
    bad = synthetic_comunas()
    del bad["features"][0]
    _drop(landing / "newer.geojson", to_bytes(bad), time.time())  # the newest file is the one used
    result = materialize(instance, "comuna_boundaries")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "newer.geojson: not the 15 comunas" in str(failure.step_failure_data.error.message)
    assert "missing [1]" in str(failure.step_failure_data.error.message)
    assert (home / "warehouse" / WAREHOUSE_KEY).read_bytes() == before


def test_landing_a_comunas_file_runs_the_asset_once(home, instance, landing):
    _drop(landing / "caba_comunas.geojson", shared_comunas(), time.time())
    first = evaluate_landing_sensor(instance)
    (request,) = first.run_requests
    assert request.job_name == "boundaries" and request.run_key.startswith("boundaries:caba_comunas")
    assert execute(instance, request).success
    assert _metadata(instance)["total_area_km2"] == pytest.approx(204.1, abs=0.3)
    stored = json.loads(open_store(str(home / "warehouse")).read(WAREHOUSE_KEY))
    assert len(stored["features"]) == 15
    assert isinstance(evaluate_landing_sensor(instance, first.cursor), dg.SkipReason)


def test_a_comunas_file_seen_as_rejected_before_is_run_once_recognised(instance, landing):
    """A deployment upgraded with the file already in landing: its cursor holds it as rejected."""
    _drop(landing / "comunas.geojson", to_bytes(synthetic_comunas()), time.time())
    (info,) = LocalStore(landing).list()
    old = LandingFile(info.key, info.version, info.modified, REJECTED, detail="neither crime nor weather")
    result = evaluate_landing_sensor(instance, encode_cursor([old]))
    (request,) = result.run_requests
    assert request.run_key == f"boundaries:comunas.geojson@{info.version}"
    assert isinstance(evaluate_landing_sensor(instance, result.cursor), dg.SkipReason)


def test_the_boundaries_go_to_an_s3_warehouse(home, instance, landing, moto_s3, monkeypatch):
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="boundaries")
    monkeypatch.setenv("CRIME_WEATHER_WAREHOUSE_URI", "s3://boundaries/warehouse")
    monkeypatch.setenv("CRIME_WEATHER_S3_ENDPOINT_URL", moto_s3)
    _drop(landing / "comunas.geojson", to_bytes(synthetic_comunas()), time.time())
    assert materialize(instance, "comuna_boundaries").success
    body = boto3.client("s3", endpoint_url=moto_s3).get_object(
        Bucket="boundaries", Key=f"warehouse/{WAREHOUSE_KEY}"
    )
    assert len(json.loads(body["Body"].read())["features"]) == 15
