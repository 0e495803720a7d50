"""weather_effects on a real Dagster instance and a real MLflow registry (sqlite, temp artifacts)."""

import os

import dagster as dg
import pandas as pd
import pytest

from crime_weather.modeling.effects.artifacts import EFFECTS_JSON, FOREST_PNG, read_effects
from crime_weather.modeling.registry.tracking import client_for
from crime_weather.modeling.registry.versions import CHAMPION, alias_version
from crime_weather_tests.dagster_helpers import instance_in_home, materialize, seed_daily_features
from harness.models import register_model, tracking_uri
from harness.planted import RAIN_RATIO, planted_features


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """One planted year as daily_features partitions, an empty registry, a Dagster instance."""
    home = tmp_path_factory.mktemp("home")
    with instance_in_home(home) as instance:
        frames = planted_features(seed=11, first="2019-01-01", last="2019-12-31")
        seed_daily_features(instance, home / "warehouse", frames)
        yield home, instance, tracking_uri(home / "mlflow")


def _metadata(instance: dg.DagsterInstance) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey("weather_effects"))
    return event.asset_materialization.metadata


def test_without_a_champion_the_effects_are_stored_and_logged_in_a_run_of_their_own(platform):
    home, instance, uri = platform
    result = materialize(instance, "weather_effects")
    assert result.success
    table = pd.read_parquet(home / "warehouse" / "weather_effects" / "effects.parquet")
    by_comuna = pd.read_parquet(home / "warehouse" / "weather_effects" / "by_comuna.parquet")
    rain = table.set_index("variable").loc["rain"]
    assert rain["ci_low"] <= RAIN_RATIO <= rain["ci_high"] < 1
    assert by_comuna["comuna"].tolist() == list(range(1, 16))

    meta = _metadata(instance)
    assert meta["logged_beside"].value == "in a run of its own: there is no champion yet"
    assert meta["forest_plot"].value.startswith("![weather effects forest plot](data:image/png;base64,")
    assert "| rain | rain >= 1 mm vs drier days |" in meta["effects"].value
    assert meta["sample_days"].value == 365 and meta["excluded_days"].value == 0
    assert meta["overdispersion"].value > 1.2 and meta["family"].value.startswith("negative binomial")
    assert "- rain (rain >= 1 mm vs drier days): fewer robberies" in meta["verdicts"].value
    assert meta["dagster/row_count"].value == len(table)

    client = client_for(uri)
    assert alias_version(client, "crime_weather", CHAMPION) is None
    run_id = meta["mlflow_run"].value.rsplit("/", 1)[-1]
    payload = read_effects(client, run_id)
    assert (
        payload["lineage"]["model_version"] is None and payload["lineage"]["dagster_run_id"] == result.run_id
    )
    logged_rain = next(row for row in payload["effects"] if row["variable"] == "rain")
    assert logged_rain["rate_ratio"] == pytest.approx(rain["rate_ratio"])
    assert client.get_run(run_id).data.tags["dagster_asset"] == "weather_effects"


def test_with_a_champion_the_effects_land_in_the_champion_run(platform):
    _, instance, uri = platform
    version = register_model(uri)
    client = client_for(uri)
    champion = alias_version(client, "crime_weather", CHAMPION)
    assert read_effects(client, champion.run_id) is None  # not yet
    assert materialize(instance, "weather_effects").success
    assert _metadata(instance)["logged_beside"].value == f"beside the champion, crime_weather v{version}"
    artifacts = {artifact.path for artifact in client.list_artifacts(champion.run_id)}
    assert {EFFECTS_JSON, FOREST_PNG} <= artifacts  # the model itself is a LoggedModel of its own
    payload = read_effects(client, champion.run_id)
    assert payload["lineage"] | {"computed_at": None} == {
        "dagster_run_id": payload["lineage"]["dagster_run_id"],
        "computed_at": None,
        "model_version": version,
        "run_id": champion.run_id,
    }
    assert payload["model"]["clustered_by"] == "day" and len(payload["by_comuna"]) == 15


def test_too_little_weather_is_reported_without_failing_the_retrain(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("CRIME_WEATHER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CRIME_WEATHER_HOME", str(tmp_path))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        frames = planted_features(seed=1, first="2019-03-01", last="2019-03-31")
        seed_daily_features(instance, tmp_path / "warehouse", frames)
        assert materialize(instance, "weather_effects").success  # the run it is part of goes on
        meta = _metadata(instance)
    assert meta["not_estimated"].value.startswith("weather effects not estimated: only 31 days have")
    assert meta["dagster/row_count"].value == 0
    assert pd.read_parquet(tmp_path / "warehouse" / "weather_effects" / "effects.parquet").empty
    assert not (tmp_path / "mlflow").exists()  # nothing logged: the API keeps saying there are none


def test_data_too_sparse_for_the_effects_are_reported_by_name_without_failing_the_retrain(
    tmp_path, monkeypatch
):
    """Comunas without robberies (a test platform's few crime rows): refused from the counts, the
    same on every CPU, and the reason names them."""
    for name in [n for n in os.environ if n.startswith("CRIME_WEATHER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CRIME_WEATHER_HOME", str(tmp_path))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        frames = planted_features(seed=2, first="2019-01-01", last="2019-04-30")
        for frame in frames.values():
            frame.loc[frame["comuna"] > 1, "robberies"] = 0
        seed_daily_features(instance, tmp_path / "warehouse", frames)
        assert materialize(instance, "weather_effects").success
        meta = _metadata(instance)
    reason = meta["not_estimated"].value
    assert reason.startswith("weather effects not estimated: 14 of 15 comunas have fewer than 10 robberies")
    assert "comuna 2 (0)" in reason and "comuna 15 (0)" in reason
    assert meta["dagster/row_count"].value == 0
    assert not (tmp_path / "mlflow").exists()
