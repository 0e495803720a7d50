"""The whole ingest over the real shared files (CI has them): totals must match an independent count."""

import os
import shutil
import time

import dagster as dg
import pandas as pd
import pytest

from crime_weather_tests.dagster_helpers import checks, evaluate_landing_sensor, execute, materialized

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ingested(shared_raw, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    landing = home / "landing"
    landing.mkdir()
    # Land the 2016-2017 release first and the robberies file after it: the later file wins 2017.
    for index, path in enumerate(sorted(shared_raw.iterdir())):
        shutil.copy(path, landing / path.name)
        os.utime(landing / path.name, (time.time() + index, time.time() + index))
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CRIME_WEATHER_")]:
            patch.delenv(name)
        patch.setenv("CRIME_WEATHER_HOME", str(home))
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            result = evaluate_landing_sensor(instance)
            runs = [execute(instance, request) for request in result.run_requests]
            yield home, instance, result, runs


def test_every_month_is_materialized_with_green_checks_in_two_runs(ingested):
    _, instance, result, runs = ingested
    months = instance.get_dynamic_partitions("months")
    assert len(months) == 50 and months[0] == "2016-01" and months[-1] == "2020-02"
    assert len(result.run_requests) == 2  # one per crime file, not one per month or per step
    assert all(run.success for run in runs)
    assert all(all(checks(run).values()) for run in runs)
    assert materialized(instance, "daily_features") == set(months)


def test_robbery_totals_per_year_equal_an_independent_count(ingested, shared_raw):
    home, *_ = ingested
    features = pd.concat(
        pd.read_parquet(p) for p in (home / "warehouse" / "daily_features").glob("*.parquet")
    )
    totals = features.groupby(features["date"].dt.year)["robberies"].sum().to_dict()

    robberies = pd.read_csv(
        shared_raw / "caba_robos_2017_2020feb_rafzamb.csv.gz", usecols=["fecha", "comuna"]
    )
    robberies = robberies[robberies["comuna"].between(1, 15)]
    by_year = robberies.groupby(robberies["fecha"].str[:4].astype(int)).size().to_dict()
    old = pd.read_csv(
        shared_raw / "caba_delitos_2016_2017_mapa_del_delito_gefero.zip",
        usecols=["fecha", "tipo_delito", "comuna"],
    )
    old = old[old["tipo_delito"].str.startswith("Robo") & old["comuna"].str.match(r"Comuna ([1-9]|1[0-5])$")]
    by_year[2016] = int((old["fecha"].str[:4] == "2016").sum())

    assert by_year[2018] == 69_279 and by_year[2019] == 62_649  # SOURCES.md's figures
    assert totals == by_year


def test_weather_comes_from_the_best_source_and_is_complete(ingested):
    home, *_ = ingested
    weather = pd.concat(pd.read_parquet(p) for p in (home / "warehouse" / "raw_weather").glob("*.parquet"))
    assert weather["temp_mean"].notna().all()  # every day of 2016-01..2020-02 has a mean temperature
    from_2017 = weather[weather["date"] >= "2017-01-01"]
    assert from_2017[["precipitation_mm", "humidity_pct", "temp_max"]].notna().all().all()  # SMN Aeroparque
