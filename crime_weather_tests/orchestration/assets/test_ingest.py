import boto3
import dagster as dg
import pandas as pd
import pytest

from crime_weather.orchestration.resources import parquet_to_frame
from crime_weather.tables.schemas import daily_features_schema, raw_crime_schema
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import checks, ingest_range, materialized

MARCH = pd.date_range("2019-03-01", "2019-03-31")


@pytest.fixture
def instance(home):
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        instance.add_dynamic_partitions("months", ["2019-03"])
        yield instance


def test_materializes_a_month_with_metadata_and_passing_checks(instance, landing, home):
    (landing / "crime.csv").write_bytes(builders.to_csv(builders.release_current()))
    (landing / "smn.csv.gz").write_bytes(builders.gz(builders.to_csv(builders.smn_daily(MARCH))))
    result = ingest_range(instance, "2019-03", "2019-03")
    assert result.success and checks(result) == {
        "raw_crime": True,
        "raw_weather": True,
        "daily_features": True,
    }

    features = pd.read_parquet(home / "warehouse" / "daily_features" / "2019-03.parquet")
    daily_features_schema("2019-03").validate(features)
    assert features["robberies"].sum() == 3 and features["precipitation_mm"].iloc[0] == 4.5
    crime = parquet_to_frame((home / "warehouse" / "raw_crime" / "2019-03.parquet").read_bytes())
    raw_crime_schema("2019-03").validate(crime)

    event = instance.get_latest_materialization_event(dg.AssetKey("raw_crime")).asset_materialization
    meta = {key: value.value for key, value in event.metadata.items()}
    assert meta["source_file"] == "crime.csv" and meta["robberies"] == 3 and meta["dagster/row_count"] == 4
    assert meta["layout"] == "delitos_current" and "| event_id |" in meta["preview"]
    weather = instance.get_latest_materialization_event(dg.AssetKey("raw_weather")).asset_materialization
    assert weather.metadata["filled_by"].value["temp_mean"] == {"smn-daily": 31}


def test_a_bad_partition_fails_its_check_and_blocks_downstream(instance, landing, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_MAX_BAD_ROW_SHARE", "0.2")
    frame = builders.release_current()
    frame.loc[1, "fecha"] = "31/02/2019x"
    (landing / "crime.csv").write_bytes(builders.to_csv(frame))
    result = ingest_range(instance, "2019-03", "2019-03")
    assert checks(result)["raw_crime"] is False
    evaluation = next(
        e for e in result.get_asset_check_evaluations() if e.asset_key == dg.AssetKey("raw_crime")
    )
    assert "crime.csv refused: 1 of 4 rows unusable (25.00% > limit 20.00%)" in evaluation.description
    assert "line 3: date missing, unparseable or out of range" in evaluation.description
    assert materialized(instance, "daily_features") == set()
    assert landing.joinpath("crime.csv").exists()


def test_a_few_bad_rows_under_the_limit_are_reported_and_the_rest_loads(instance, landing, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_MAX_BAD_ROW_SHARE", "0.5")
    frame = builders.release_current()
    frame.loc[1, "fecha"] = "garbage"
    (landing / "crime.csv").write_bytes(builders.to_csv(frame))
    result = ingest_range(instance, "2019-03", "2019-03")
    assert result.success and all(checks(result).values())
    meta = instance.get_latest_materialization_event(dg.AssetKey("raw_crime")).asset_materialization.metadata
    assert meta["file_unusable_rows"].value == 1 and "line 3" in meta["file_unusable_examples"].value
    assert meta["dagster/row_count"].value == 3


def test_one_run_materializes_many_months(home, landing):
    events = [(f"2019-{m:02d}-15", 3, "robo", "Comuna 1", -34.6, -58.4) for m in range(1, 7)]
    (landing / "crime.csv").write_bytes(builders.to_csv(builders.release_current(events)))
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        instance.add_dynamic_partitions("months", [f"2019-{m:02d}" for m in range(1, 7)])
        result = ingest_range(instance, "2019-02", "2019-05")
        assert result.success
        assert materialized(instance, "daily_features") == {"2019-02", "2019-03", "2019-04", "2019-05"}
        assert len(instance.get_runs()) == 1
        # per-partition metadata, not one blob for the whole run
        records = instance.fetch_materializations(dg.AssetKey("raw_crime"), limit=10).records
        assert {
            r.asset_materialization.partition: r.asset_materialization.metadata["date_range"].value
            for r in records
        }["2019-04"] == "2019-04-15 .. 2019-04-15"


def test_the_warehouse_writes_the_same_keys_to_s3(home, landing, moto_s3, monkeypatch):
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="data")
    monkeypatch.setenv("CRIME_WEATHER_WAREHOUSE_URI", "s3://data")
    monkeypatch.setenv("CRIME_WEATHER_S3_ENDPOINT_URL", moto_s3)
    (landing / "crime.csv").write_bytes(builders.to_csv(builders.release_current()))
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        instance.add_dynamic_partitions("months", ["2019-03"])
        assert ingest_range(instance, "2019-03", "2019-03").success
    keys = {
        o["Key"] for o in boto3.client("s3", endpoint_url=moto_s3).list_objects_v2(Bucket="data")["Contents"]
    }
    assert {
        "raw_crime/2019-03.parquet",
        "raw_weather/2019-03.parquet",
        "daily_features/2019-03.parquet",
    } <= keys
    assert not (home / "warehouse").exists()
