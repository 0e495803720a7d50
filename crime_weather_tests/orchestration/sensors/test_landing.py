import os
import time

import dagster as dg
import pytest

from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import evaluate_landing_sensor, execute, materialized


@pytest.fixture
def instance(home):
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


def _drop(path, data: bytes) -> None:
    path.write_bytes(data)
    stamp = time.time() + len(os.listdir(path.parent))  # distinct landing times, in drop order
    os.utime(path, (stamp, stamp))


def test_new_file_then_same_file_then_changed_file(instance, landing):
    _drop(landing / "delitos.csv", builders.to_csv(builders.release_current()))
    first = evaluate_landing_sensor(instance)
    assert isinstance(first, dg.SensorResult)
    assert instance.get_dynamic_partitions("months") == ["2019-03"]
    (request,) = first.run_requests
    assert request.job_name == "ingest" and request.run_key.startswith("delitos.csv@")
    assert request.tags["dagster/asset_partition_range_start"] == "2019-03"
    assert execute(instance, request).success and materialized(instance, "daily_features") == {"2019-03"}

    again = evaluate_landing_sensor(instance, first.cursor)
    assert isinstance(again, dg.SkipReason) and "unchanged (1 crime)" in again.skip_message

    frame = builders.release_current()
    frame.loc[0, "fecha"] = "2019-04-02"
    _drop(landing / "delitos.csv", builders.to_csv(frame))
    changed = evaluate_landing_sensor(instance, first.cursor)
    assert instance.get_dynamic_partitions("months") == ["2019-03", "2019-04"]
    (rerun,) = changed.run_requests
    assert rerun.run_key != request.run_key
    assert (
        rerun.tags["dagster/asset_partition_range_start"],
        rerun.tags["dagster/asset_partition_range_end"],
    ) == (
        "2019-03",
        "2019-04",
    )


def test_an_unreadable_file_is_reported_and_stays(instance, landing):
    _drop(landing / "broken.csv.gz", builders.gz(b"id,fecha\n" * 2000)[:-25])
    result = evaluate_landing_sensor(instance)
    (request,) = result.run_requests
    assert request.job_name == "landing_file_rejected" and request.run_key.startswith(
        "rejected:broken.csv.gz@"
    )
    assert instance.get_dynamic_partitions("months") == []
    run = execute(instance, request)
    assert not run.success
    failure = run.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "broken.csv.gz: is a damaged or truncated gzip file" in failure.description
    assert (landing / "broken.csv.gz").exists()
    assert isinstance(evaluate_landing_sensor(instance, result.cursor), dg.SkipReason)  # not reported twice


def test_weather_outside_known_months_waits(instance, landing):
    import pandas as pd

    _drop(landing / "delitos.csv", builders.to_csv(builders.release_current()))
    first = evaluate_landing_sensor(instance)
    _drop(landing / "smn.csv", builders.to_csv(builders.smn_daily(pd.date_range("2019-02-20", "2019-03-03"))))
    second = evaluate_landing_sensor(instance, first.cursor)
    (request,) = second.run_requests
    assert [k.to_user_string() for k in request.asset_selection] == ["raw_weather", "daily_features"]
    assert request.tags["dagster/asset_partition_range_start"] == "2019-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2019-03"
    assert instance.get_dynamic_partitions("months") == ["2019-03"]  # 2019-02 has weather but no crime


def test_the_latest_landed_release_wins_overlapping_months(instance, landing):
    _drop(landing / "a_2016.csv", builders.to_csv(builders.release_2016()))
    first = evaluate_landing_sensor(instance)
    execute(instance, first.run_requests[0])
    _drop(landing / "b_2020.csv", builders.to_csv(builders.release_2020()))
    second = evaluate_landing_sensor(instance, first.cursor)
    (request,) = second.run_requests
    assert request.run_key.startswith("b_2020.csv@")
    assert execute(instance, request).success
    meta = instance.get_latest_materialization_event(dg.AssetKey("raw_crime")).asset_materialization.metadata
    assert meta["source_file"].value == "b_2020.csv" and meta["layout"].value == "delitos_2020"


def test_the_cursor_keeps_every_file_it_saw_and_a_plan_maps_to_the_ingest_assets(instance):
    # `instance` open like every test here: Dagster keeps the last instance's state storage in a
    # context variable, and a test without one left the next test's Definitions reading a dead one.
    from crime_weather.orchestration.assets.ingest import daily_features, raw_crime, raw_weather
    from crime_weather.orchestration.sensors.landing import decode_cursor, encode_cursor, ingested_keys
    from crime_weather.sources.catalog import CRIME, WEATHER, LandingFile
    from crime_weather.tables.landing_plan import plan_ingest

    files = [
        LandingFile("b.csv", "2", 2.0, CRIME, "delitos_current", ("2019-01", "2019-02")),
        LandingFile("w.csv", "1", 1.0, WEATHER, "smn_daily", ("2019-02",), "detail"),
    ]
    assert decode_cursor(encode_cursor(files)) == sorted(files, key=lambda f: f.key)
    assert decode_cursor(None) == [] and decode_cursor("") == []
    assert plan_ingest(decode_cursor(encode_cursor(files)), files, ["2019-01", "2019-02"]).is_empty
    (crime_run,) = plan_ingest([], files[:1], []).runs
    assert ingested_keys(crime_run) == [raw_crime.key, raw_weather.key, daily_features.key]
    newer_weather = LandingFile("w.csv", "2", 3.0, WEATHER, "smn_daily", ("2019-02",))
    (weather_run,) = plan_ingest(files, [files[0], newer_weather], ["2019-01", "2019-02"]).runs
    assert ingested_keys(weather_run) == [raw_weather.key, daily_features.key]
