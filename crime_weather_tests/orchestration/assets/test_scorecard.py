"""The platform grades its own claims: outlook_on_promotion stores the champion's outlook, and each month
whose daily_features lands is scored by the automation. Real Dagster instance, real MLflow (sqlite)."""

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import TARGET
from crime_weather.core.storage import frame_to_parquet, parquet_to_frame
from crime_weather.definitions import build_definitions, build_resources
from crime_weather.modeling.forecasting.forecast import forecast_table
from crime_weather.modeling.forecasting.horizon import data_through
from crime_weather.modeling.registry.tracking import client_for
from crime_weather.modeling.registry.versions import load_pipeline
from crime_weather_tests.dagster_helpers import execute, seed_daily_features
from harness.models import register_model, synthetic_features, tracking_uri

TRAINED = ["2019-01", "2019-02", "2019-03"]
SCORECARD = dg.AssetKey("forecast_scorecard")


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    uri = tracking_uri(tmp_path_factory.mktemp("scorecard-registry"))
    assert register_model(uri, seed=1, months=TRAINED) == "1"
    return uri


@pytest.fixture
def instance(home, registry, monkeypatch):
    monkeypatch.setenv("CRIME_WEATHER_MLFLOW_TRACKING_URI", registry)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        seed_daily_features(instance, home / "warehouse", synthetic_features(TRAINED, seed=1))
        yield instance


def _outlook_tick(instance, cursor=None):
    defs = build_definitions()
    resources = {"mlflow_tracking": build_resources()["mlflow_tracking"]}
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=resources)
    result = defs.resolve_sensor_def("outlook_on_promotion")(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


class Scoring:
    """Ticks of score_on_new_features' condition, keeping its cursor like the daemon, and the runs."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance, self.cursor, self.defs = instance, None, build_definitions()

    def tick(self) -> set[str]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs,
            instance=self.instance,
            asset_selection=dg.AssetSelection.assets(SCORECARD),
            cursor=self.cursor,
        )
        self.cursor = result.cursor
        return set(result.get_requested_partitions(SCORECARD))

    def run(self, month: str) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_implicit_job_def_def_for_assets([SCORECARD])
        return job.execute_in_process(
            instance=self.instance, asset_selection=[SCORECARD], partition_key=month, raise_on_error=False
        )


def _stored(home, folder: str, name: str) -> pd.DataFrame:
    return parquet_to_frame((home / "warehouse" / folder / f"{name}.parquet").read_bytes())


def _land(instance, home, month: str, counts: np.ndarray) -> None:
    """The month's daily_features as an ingest leaves them, with `counts` as robberies."""
    frame = synthetic_features([month], seed=2)[month]
    seed_daily_features(
        instance, home / "warehouse", {month: frame.assign(**{TARGET: counts.astype("int64")})}
    )


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def _issue_forecast(home, registry, issue: str) -> None:
    """A robbery_forecast issue stored as the forecast asset stores it (v1, a week from `issue`)."""
    pipeline = load_pipeline(registry, client_for(registry).get_model_version("crime_weather", "1"))
    weather = synthetic_features(["2019-04"], seed=5)["2019-04"].groupby("date", as_index=False).first()
    week = weather[weather["date"] >= issue].head(7)
    table = forecast_table(
        week,
        pipeline.predict,
        model_version="1",
        weather_source="test",
        issued_at=pd.Timestamp(f"{issue}T09:00Z"),
        data_through=data_through(pipeline),
    )
    folder = home / "warehouse" / "robbery_forecast"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{issue}.parquet").write_bytes(frame_to_parquet(table))


def _promote(instance, home) -> pd.DataFrame:
    tick = _outlook_tick(instance)
    (request,) = tick.run_requests
    assert request.partition_key == "1" and tick.cursor == "1"
    assert execute(instance, request).success
    return _stored(home, "champion_outlook", "1")


def test_a_promotion_stores_the_champions_outlook_once(instance, home, registry):
    outlook = _promote(instance, home)
    assert len(outlook) == 184 * 15 and set(outlook["comuna"]) == set(range(1, 16))
    assert outlook["date"].min() == pd.Timestamp("2019-04-01") and outlook["date"].max() == pd.Timestamp(
        "2019-10-01"
    )
    assert instance.get_dynamic_partitions("champion_versions") == ["1"]
    assert isinstance(_outlook_tick(instance, cursor="1"), dg.SkipReason)  # unchanged champion
    # Whoever moves the alias (here by hand, as in MLflow's UI), the new champion gets its outlook.
    client = client_for(registry)
    newer = register_model(registry, seed=2, months=TRAINED, alias=None)
    client.set_registered_model_alias("crime_weather", "champion", newer)
    try:
        tick = _outlook_tick(instance, cursor="1")
    finally:
        client.set_registered_model_alias("crime_weather", "champion", "1")
    (request,) = tick.run_requests
    assert (request.partition_key, request.run_key, tick.cursor) == (newer, f"outlook-v{newer}", newer)
    assert instance.get_dynamic_partitions("champion_versions") == ["1", newer]


def test_a_landed_month_is_graded_a_planted_shift_warns_and_a_relanded_month_replaces_its_rows(
    instance, home, registry
):
    scoring = Scoring(instance)
    scoring.tick()
    outlook = _promote(instance, home)
    _issue_forecast(home, registry, "2019-04-28")  # its last four days fall in May: not April's claims
    april = outlook[outlook["date"].dt.month == 4].sort_values(["date", "comuna"])
    expected = april["expected_robberies"].to_numpy()
    rng = np.random.default_rng(0)

    _land(instance, home, "2019-04", rng.poisson(0.7 * expected))  # the truth runs 30 % below the claims
    assert scoring.tick() == {"2019-04"}
    shifted = scoring.run("2019-04")
    assert shifted.success  # the checks warn, the run stands
    verdicts = _checks(shifted)
    calibrated = verdicts["calibrated"]
    assert not calibrated.passed and calibrated.severity == dg.AssetCheckSeverity.WARN
    assert calibrated.description.startswith("v1 on 2019-04, horizon month 1 (n=450): ")
    assert "predicted/observed 1.4" in calibrated.description
    assert verdicts["schema"].passed
    first = _stored(home, "forecast_scorecard", "2019-04")
    assert first[["source", "horizon"]].values.tolist() == [
        ["forecast", 1],
        ["forecast", 2],
        ["forecast", 3],
        ["outlook", 1],
    ]
    assert (first["n"].tolist(), first["pred_over_obs"].iloc[-1] > 1.3) == ([15, 15, 15, 450], True)
    assert scoring.tick() == set()  # handled

    _land(instance, home, "2019-04", rng.poisson(expected))  # the month lands again, corrected
    assert scoring.tick() == {"2019-04"}
    fair = scoring.run("2019-04")
    assert fair.success and _checks(fair)["calibrated"].passed and _checks(fair)["beats_naive"].passed
    table = _stored(home, "forecast_scorecard", "2019-04")
    assert len(table) == 4 and not table.duplicated(["month", "source", "source_key", "horizon"]).any()
    row = table.iloc[-1]
    assert (row["source"], row["model_version"], row["horizon"], row["n"]) == ("outlook", "1", 1, 450)
    assert 0.85 <= row["pred_over_obs"] <= 1.15

    # live_* on v1's run: one point per scoring of the month, the last one the stored figure.
    client = client_for(registry)
    run_id = client.get_model_version("crime_weather", "1").run_id
    history = client.get_metric_history(run_id, "live_h1_poisson_deviance")
    assert [point.step for point in history] == [201904, 201904]
    assert history[-1].value == pytest.approx(row["poisson_deviance"])
    assert client.get_run(run_id).data.metrics["live_h1_coverage_80"] == pytest.approx(row["coverage_80"])
    metadata = instance.get_latest_materialization_event(SCORECARD).asset_materialization.metadata
    assert metadata["observed_vs_claimed"].value.startswith("![observed city total per day")


def test_a_month_no_claim_covers_is_skipped_with_the_reason(instance, home):
    scoring = Scoring(instance)
    result = scoring.run("2019-02")  # before the champion's data ends: nothing claims it
    assert result.success
    assert _stored(home, "forecast_scorecard", "2019-02").empty
    metadata = instance.get_latest_materialization_event(SCORECARD).asset_materialization.metadata
    assert metadata["skipped"].value == {"2019-02": "no claim is stored: nothing claims a day of 2019-02"}
    verdicts = _checks(result)
    assert verdicts["calibrated"].passed and "nothing scored on 2019-02" in verdicts["calibrated"].description


def test_months_that_land_together_are_scored_by_one_run(instance, home):
    scoring = Scoring(instance)
    scoring.tick()
    outlook = _promote(instance, home)
    rng = np.random.default_rng(1)
    landed = ["2019-04", "2019-05", "2019-06"]
    for month in landed:
        claims = outlook[outlook["date"].dt.strftime("%Y-%m") == month].sort_values(["date", "comuna"])
        _land(instance, home, month, rng.poisson(claims["expected_robberies"].to_numpy()))
    assert scoring.tick() == set(landed)
    # The daemon turns a tick's months into runs by the asset's backfill policy: one run for all.
    assert scoring.defs.resolve_assets_def(SCORECARD).backfill_policy == dg.BackfillPolicy.single_run()
    job = scoring.defs.resolve_implicit_job_def_def_for_assets([SCORECARD])
    result = job.execute_in_process(
        instance=instance,
        asset_selection=[SCORECARD],
        tags={
            "dagster/asset_partition_range_start": landed[0],
            "dagster/asset_partition_range_end": landed[-1],
        },
        raise_on_error=False,
    )
    assert result.success
    for horizon, month in enumerate(landed, start=1):
        table = _stored(home, "forecast_scorecard", month)
        assert table[["source", "horizon"]].values.tolist() == [["outlook", horizon]]
    verdicts = _checks(result)
    assert set(verdicts) == {"schema", "calibrated", "beats_naive"}  # one verdict each, for all months
    judged = verdicts["calibrated"]
    assert judged.metadata["months"].value == landed
    if judged.passed:
        assert all(f"champion v1 on {month}" in judged.description for month in landed)
    else:
        assert any(f"v1 on {month}" in judged.description for month in landed)
