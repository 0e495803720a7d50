"""Run the real code location against a real Dagster instance, the way the daemon would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from crime_weather.definitions import build_definitions, build_resources
from crime_weather.orchestration.sensors.landing import RANGE_END_TAG, RANGE_START_TAG


@contextmanager
def instance_in_home(home: Path, **settings: str) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance in the embedded `home`, the caller's CRIME_WEATHER_* and MLFLOW_* variables
    cleared and `settings` (CRIME_WEATHER_<NAME>) set: the `home` fixture for module-scoped fixtures,
    which monkeypatch's function scope does not reach."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("CRIME_WEATHER_", "MLFLOW_"))]:
            patch.delenv(name)
        patch.setenv("CRIME_WEATHER_HOME", str(home))
        for name, value in settings.items():
            patch.setenv(f"CRIME_WEATHER_{name.upper()}", value)
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            yield instance


def evaluate_landing_sensor(instance: dg.DagsterInstance, cursor: str | None = None):
    """One tick of landing_sensor; partitions it asks for are added, as the daemon does."""
    defs = build_definitions()
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs,
        resources={"landing": build_resources()["landing"]},
    )
    result = defs.resolve_sensor_def("landing_sensor")(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def execute(instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """Execute a sensor's run request in process on the same instance."""
    job = build_definitions().resolve_job_def(request.job_name)
    return job.execute_in_process(
        instance=instance,
        tags=dict(request.tags),
        asset_selection=request.asset_selection,
        run_config=request.run_config or None,
        partition_key=request.partition_key,
        raise_on_error=False,
    )


def ingest_range(
    instance: dg.DagsterInstance, first: str, last: str, assets=("raw_crime", "raw_weather", "daily_features")
):
    request = dg.RunRequest(
        job_name="ingest",
        asset_selection=[dg.AssetKey(a) for a in assets],
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
    )
    return execute(instance, request)


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """Whether each asset's blocking checks passed (WARN checks, e.g. the crime data's age, only warn)."""
    verdicts: dict[str, bool] = {}
    for e in result.get_asset_check_evaluations():
        if e.severity == dg.AssetCheckSeverity.ERROR:
            key = e.asset_key.to_user_string()
            verdicts[key] = verdicts.get(key, True) and e.passed
    return verdicts


def materialized(instance: dg.DagsterInstance, asset: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset)))


def materialize(instance: dg.DagsterInstance, *assets: str) -> dg.ExecuteInProcessResult:
    """Materialize unpartitioned assets with the code location's resources, as a UI click would."""
    job = build_definitions().resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(asset) for asset in assets], raise_on_error=False
    )


def seed_daily_features(instance: dg.DagsterInstance, warehouse, frames) -> None:
    """daily_features partitions as an ingest would leave them: parquet files and materializations."""
    from crime_weather.orchestration.resources import frame_to_parquet

    instance.add_dynamic_partitions("months", sorted(frames))
    folder = warehouse / "daily_features"
    folder.mkdir(parents=True, exist_ok=True)
    for month, frame in frames.items():
        (folder / f"{month}.parquet").write_bytes(frame_to_parquet(frame))
        instance.report_runless_asset_event(dg.AssetMaterialization("daily_features", partition=month))


def issue_forecast(instance: dg.DagsterInstance, issue: str) -> dg.ExecuteInProcessResult:
    """One robbery_forecast run for an issue date, as the schedule or a sensor would request it."""
    return execute(instance, dg.RunRequest(job_name="forecast", partition_key=issue))
