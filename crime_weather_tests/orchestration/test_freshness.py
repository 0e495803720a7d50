"""crime_data_age on a real Dagster instance: the newest crime month and its age, a warning, no block."""

import dagster as dg
import pandas as pd
import pytest

from crime_weather.orchestration.freshness import crime_age, crime_data_age
from crime_weather.orchestration.partitions import months
from crime_weather.orchestration.resources import ForecastSource


def _run_check(instance: dg.DagsterInstance, max_horizon_days: int) -> dg.AssetCheckEvaluation:
    raw_crime = dg.AssetSpec("raw_crime", partitions_def=months)
    job = dg.define_asset_job("crime_age", selection=dg.AssetSelection.checks(crime_data_age))
    defs = dg.Definitions(
        assets=[raw_crime],
        asset_checks=[crime_data_age],
        jobs=[job],
        resources={"forecast_source": ForecastSource(max_horizon_days=max_horizon_days)},
    )
    result = defs.resolve_job_def("crime_age").execute_in_process(instance=instance)
    assert result.success  # a warning never fails the run
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_the_newest_month_and_its_age_show_as_a_warning():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("months", ["2019-05", "2019-06", "2019-04"])
        for month in ("2019-04", "2019-06", "2019-05"):
            instance.report_runless_asset_event(dg.AssetMaterialization("raw_crime", partition=month))
        evaluation = _run_check(instance, 184)
        assert evaluation.severity == dg.AssetCheckSeverity.WARN and not evaluation.passed
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        assert metadata["newest_month"] == "2019-06" and metadata["data_through"] == "2019-06-30"
        age = (
            pd.Timestamp.now(tz="America/Argentina/Buenos_Aires").tz_localize(None).normalize()
            - pd.Timestamp("2019-06-30")
        ).days
        assert abs(metadata["age_days"] - age) <= 1 and metadata["months_ingested"] == 3
        assert "no counts" in evaluation.description
        assert _run_check(instance, 100_000).passed  # within a (very long) horizon: fresh


@pytest.mark.parametrize(
    ("today", "passed", "age"),
    [("2019-12-31", True, 184), ("2020-01-01", False, 185), ("2019-07-01", True, 1)],
)
def test_the_limit_is_the_horizon(today: str, passed: bool, age: int):
    result = crime_age({"2019-05", "2019-06"}, pd.Timestamp(today), 184)
    assert result.passed is passed and result.metadata["age_days"].value == age


def test_no_month_yet_is_said():
    result = crime_age(set(), pd.Timestamp("2026-12-06"), 184)
    assert not result.passed and result.description == "no crime month has been ingested yet"
