"""Resources built from the settings of their concern, and ops that read only their resources."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from pydantic import ValidationError

from crime_weather.core.settings import (
    IngestionSettings,
    StorageSettings,
    TrackingSettings,
    TrainingBudget,
    TrainingSettings,
)
from crime_weather.definitions import build_definitions, build_resources
from crime_weather.orchestration.resources import TrainingPolicy


def test_each_resource_carries_the_settings_of_its_concern(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CRIME_WEATHER_SEARCH_TRIALS", "7")
    monkeypatch.setenv("CRIME_WEATHER_TEST_MONTHS", "2")
    monkeypatch.setenv("CRIME_WEATHER_WEATHER_PRIORITY", "cammesa,smn-daily")
    monkeypatch.setenv("CRIME_WEATHER_FORECAST_DAYS", "3")
    monkeypatch.setenv("CRIME_WEATHER_CRIME_YEARS", "2019,2020")
    monkeypatch.setenv("CRIME_WEATHER_REGISTERED_MODEL", "model")
    resources = build_resources()
    assert resources["training"].search_trials == 7 and resources["training"].test_months == 2
    assert resources["ingest_policy"].weather_priority == ["cammesa", "smn-daily"]
    assert resources["forecast_source"].forecast_days == 3
    assert resources["acquisition_source"].crime_years == [2019, 2020]
    assert resources["acquisition_source"].source == "none"
    tracking = resources["mlflow_tracking"]
    assert (tracking.registered_model, tracking.tracking_uri) == ("model", TrackingSettings().tracking_uri)
    assert tracking.artifact_location == (home / "mlflow" / "artifacts").as_uri()
    assert resources["landing"].uri == str(home / "landing") == StorageSettings().landing
    assert resources["warehouse"].uri == str(home / "warehouse")
    assert resources["ingest_policy"].model_dump() == IngestionSettings().model_dump()


def test_the_budget_modeling_gets_is_the_settings_one_without_dagster(home: Path):
    budget = build_resources()["training"].budget()
    assert type(budget) is TrainingBudget, "no Dagster object goes below orchestration"
    assert budget == TrainingBudget(**TrainingSettings().model_dump())


def test_a_resource_refuses_what_its_setting_refuses():
    """Config typed in Dagster's launchpad meets the same bounds as the environment."""
    with pytest.raises(ValidationError, match="search_trials"):
        TrainingPolicy(search_trials=0)
    schema = TrainingPolicy.to_config_schema().as_field().config_type.fields
    assert set(schema) == set(TrainingBudget.model_fields)
    assert schema["search_trials"].default_value == TrainingBudget().search_trials


def test_acquisition_fetches_from_its_resource_not_from_the_environment(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The op reads its source from the resource the code location was built with: changing the
    variable afterwards (a run worker with another environment) changes nothing."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.csv").write_bytes(b"a,b\n1,2\n")
    monkeypatch.setenv("CRIME_WEATHER_SOURCE", str(mirror))
    job = build_definitions().resolve_job_def("acquisition")
    monkeypatch.setenv("CRIME_WEATHER_SOURCE", "none")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance)
    assert result.success
    assert (home / "landing" / "a.csv").read_bytes() == b"a,b\n1,2\n"
