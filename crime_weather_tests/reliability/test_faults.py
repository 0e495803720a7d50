"""Bad files, a re-release, another schema variant, promotions and an MLflow outage, on the real platform.

One platform for the whole module (MLflow server, Dagster daemon, the API; crime_weather_tests/
platform.py), one story in order: a weak champion is replaced by a trained one and the API follows;
a worse challenger is refused; bad files land and are reported while everything keeps serving; the
corrected files and a re-release recover by themselves with one retrain; a release in the 2020
layout supersedes a loaded month; MLflow goes down during a retrain and comes back.
Files are generated here (crime_weather_tests/builders.py), never copies of real data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import httpx
import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from crime_weather.modeling.registry.versions import CHALLENGER, CHAMPION, alias_version
from crime_weather.orchestration.jobs import FILE_TAG
from crime_weather_tests import builders
from crime_weather_tests.dagster_helpers import materialize
from crime_weather_tests.platform import Platform, environment, wait_for
from crime_weather_tests.reliability.helpers import (
    assert_loopback_only,
    check_evaluations,
    drop,
    drop_many,
    failure_text,
    fast_dagster_yaml,
    latest_metadata,
    log_messages,
    materializations,
    materialized,
    runs,
    runs_for_file,
    start,
    train_runs,
    wait_finished,
    wait_quiet,
)
from harness.models import register_model

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

NAME = "crime_weather"
BASE_MONTHS = ["2019-01", "2019-02", "2019-03", "2019-04"]
BASE_FILE = "delitos_2019.csv"
# The test makes MLflow's client give up after one retry (its default, 7 retries with exponential
# backoff, takes about 4 minutes to declare the server unreachable).
PLATFORM_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
OBSERVATION = {"date": "2019-05-06", "comuna": 4, "temp_mean": 17.5, "precipitation_mm": 0.0}

UNREADABLE = {
    # name: (content, what the failure must say after "<name>: ")
    "broken.csv.gz": (None, "is a damaged or truncated gzip file"),
    "wrong_columns.csv": (
        b"id,date,type,district\n1,2019-03-01,robo,3\n2,2019-03-02,hurto,14\n",
        "is neither a known crime nor a known weather layout (columns: id, date, type, district)",
    ),
    "garbage.csv": (
        b"".join(f"{i * 7919 % 1000:x}#@!%; lorem {i}?|\n".encode() for i in range(200)),
        "is neither a known crime nor a known weather layout",
    ),
    "empty.csv": (b"", "is empty (expected a CSV table, csv.gz, or a zip with one CSV)"),
}


def crime_csv(months: list[str], *, seed: int, per_day: int = 6, busy: bool = False) -> bytes:
    """`busy`: 30 events a day, comuna k k times as busy as comuna 1: a level per comuna to learn, so a
    trained model beats one that predicts the city mean everywhere with a CI that says so."""
    weights = list(range(1, 16)) if busy else None
    events = builders.events_for(months, per_day=30 if busy else per_day, seed=seed, comuna_weights=weights)
    return builders.to_csv(builders.release_current(events))


def robberies(events: list[tuple], month: str) -> int:
    return sum(1 for event in events if event[0].startswith(month) and event[2] == "robo")


def _safe(call, default=None):
    try:
        return call()
    except (httpx.HTTPError, ValueError):
        return default


def api_version(platform: Platform) -> str | None:
    model = _safe(platform.champion)
    return str(model["version"]) if model else None


def health(platform: Platform) -> dict[str, Any]:
    return httpx.get(f"{platform.api_url}/health", timeout=10).json()


def wait(platform: Platform, check, timeout: float, what: str):
    """wait_for, with the end of every service's log in the error."""
    try:
        return wait_for(check, timeout, what, every=0.5)
    except TimeoutError as error:
        raise AssertionError(f"{error}\n{platform.logs()}") from None


# --- the platform and its first champion ----------------------------------------------------------
@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    tracking, registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    config = fast_dagster_yaml(tmp_path_factory.mktemp("config"))
    platform = Platform(tmp_path_factory.mktemp("faults"), env=PLATFORM_ENV, dagster_yaml=config)
    try:
        start(platform)
        yield platform
    finally:
        platform.stop()
        mlflow.set_tracking_uri(tracking)  # the helpers below point MLflow's globals at the server
        mlflow.set_registry_uri(registry)


@pytest.fixture(scope="module")
def client(platform: Platform) -> MlflowClient:
    return MlflowClient(platform.tracking_uri, platform.tracking_uri)


@pytest.fixture(scope="module")
def first_promotion(platform: Platform, client: MlflowClient) -> dict[str, Any]:
    """A weak champion (v1: one boosting step on other data) serves; then data lands, the platform
    retrains and promotes v2. Watches the alias and the API side by side to time the switch."""
    client.create_experiment(NAME)  # on the server's artifact store, before any helper asks
    assert register_model(platform.tracking_uri, weak=True, seed=7, months=["2018-01", "2018-02"]) == "1"
    days = pd.date_range("2019-01-01", "2019-12-31")
    drop_many(
        platform.landing,
        {
            BASE_FILE: crime_csv(BASE_MONTHS, seed=0, busy=True),
            "smn_2019.csv": builders.to_csv(builders.smn_daily(days)),
        },
    )
    wait(platform, lambda: api_version(platform) == "1", 120, "the API serving the weak v1")
    api_pid = platform.api.pid

    seen_alias = seen_api = None
    deadline = time.monotonic() + 300
    while seen_api is None and time.monotonic() < deadline:
        champion = _safe(lambda: alias_version(client, NAME, CHAMPION))
        now = time.monotonic()
        if seen_alias is None and champion is not None and str(champion.version) != "1":
            seen_alias = (str(champion.version), now)
        if seen_alias and api_version(platform) == seen_alias[0]:
            seen_api = now
        time.sleep(0.2)
    assert seen_alias and seen_api, f"no promotion served within 300 s\n{platform.logs()}"
    return {"version": seen_alias[0], "lag": seen_api - seen_alias[1], "api_pid": api_pid}


def test_a_better_challenger_is_promoted_and_the_api_follows_within_a_poll(
    platform: Platform, client: MlflowClient, first_promotion: dict[str, Any]
):
    instance = platform.instance()
    (retrain,) = wait_finished(instance, lambda: train_runs(instance), 1, 60, "the first retrain")
    assert retrain.status.value == "SUCCESS", failure_text(instance, retrain.run_id)
    assert materialized(instance, "daily_features") == set(BASE_MONTHS)

    version = first_promotion["version"]
    assert version == "2"
    tags = client.get_model_version(NAME, version).tags
    assert tags["promotion_decision"] == "promoted" and tags["promotion_champion_version"] == "1"
    assert float(tags["promotion_ci_high"]) < 0  # challenger - champion, retrained on the same folds
    assert json.loads(tags["promotion_folds"]) == BASE_MONTHS[2:]
    assert tags["dagster_run_id"] == retrain.run_id
    # The API polls every second (CRIME_WEATHER_API_POLL_SECONDS=1): it sees the new alias within
    # one poll, then downloads and loads the model (measured: ~0.5 s from the alias move to serving).
    # The bound allows one poll plus a slow load on a busy machine.
    assert first_promotion["lag"] < 1.0 + 3.0, first_promotion
    assert platform.api.pid == first_promotion["api_pid"]  # swapped live, no restart
    answer = platform.predict(OBSERVATION)
    assert answer.status_code == 200 and answer.json()["model_version"] == version


def test_every_service_listens_on_loopback_only(platform: Platform, first_promotion):
    ports = [platform.mlflow_port, platform.api_port]
    assert_loopback_only(platform, ["mlflow", "daemon", "api"], ports)


def test_a_worse_challenger_is_not_promoted(platform: Platform, client: MlflowClient, first_promotion):
    instance = platform.instance()
    weak = register_model(platform.tracking_uri, alias=None, weak=True, seed=8, months=BASE_MONTHS[:2])
    client.set_registered_model_alias(NAME, CHALLENGER, weak)
    # The promotion step alone, as `make retrain` runs it: same instance, same MLflow, same warehouse.
    settings = {k: v for k, v in platform.env.items() if k.startswith(("CRIME_WEATHER_", "MLFLOW_"))}
    with environment(settings, without=("CRIME_WEATHER_", "MLFLOW_")):
        result = materialize(instance, "champion_model")
    assert result.success, failure_text(instance, result.run_id)
    meta = latest_metadata(instance, "champion_model")
    assert meta["decision"] == "rejected" and meta["challenger_version"] == weak
    assert meta["ci_low"] > 0  # measurably worse on the same folds: the champion, fresh, stays
    assert str(alias_version(client, NAME, CHAMPION).version) == first_promotion["version"]
    assert client.get_model_version(NAME, weak).tags["promotion_decision"] == "rejected"
    time.sleep(3)  # three API polls
    assert api_version(platform) == first_promotion["version"]


# --- bad files ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_files(platform: Platform, first_promotion) -> dict[str, Any]:
    """Unreadable files, a file with a few bad rows (May) and one over the bad-row limit (June), at once."""
    instance = platform.instance()
    good_july = builders.gz(crime_csv(["2019-07"], seed=3))
    contents = {name: data for name, (data, _) in UNREADABLE.items()}
    contents["broken.csv.gz"] = good_july[: len(good_july) // 2]  # an upload cut in the middle

    may_events = builders.events_for(["2019-05"], per_day=40, seed=5)
    may = builders.release_current(may_events)
    bad_rows = {10: ("fecha", "31/02/2019"), 500: ("tipo", None), 900: ("fecha", "garbage")}
    for row, (column, value) in bad_rows.items():
        may.loc[row, column] = value
    contents["delitos_2019_05.csv"] = builders.to_csv(may)

    june = builders.release_current(builders.events_for(["2019-06"], per_day=6, seed=6))
    june.loc[june.index % 5 == 0, "fecha"] = "sin fecha"  # 20 % of the rows: over the 1 % limit
    contents["delitos_2019_06.csv"] = builders.to_csv(june)

    drop_many(platform.landing, contents)
    for name in contents:
        wait_finished(
            instance, lambda name=name: runs_for_file(instance, name), 1, 180, f"the run for {name}"
        )
    return {
        "contents": contents,
        "may": may,
        "may_bad_lines": {row + 2: column for row, (column, _) in bad_rows.items()},  # header is line 1
        "june_rows": len(june),
        "good_july": good_july,
    }


def test_unreadable_files_fail_a_run_naming_the_file_and_stay(platform: Platform, bad_files):
    instance = platform.instance()
    for name, (_, problem) in UNREADABLE.items():
        (run,) = runs_for_file(instance, name)
        assert run.job_name == "landing_file_rejected" and run.status.value == "FAILURE"
        assert f"{name}: {problem}" in failure_text(instance, run.run_id)
        assert (platform.landing / name).read_bytes() == bad_files["contents"][name]  # left as it was
    # Nothing was built from them: no month beyond the readable files' ones, no ingest run.
    assert set(instance.get_dynamic_partitions("months")) == {*BASE_MONTHS, "2019-05", "2019-06"}
    assert platform.daemon.running()


def test_a_few_bad_rows_are_counted_and_reported_and_the_good_rows_load(platform: Platform, bad_files):
    instance = platform.instance()
    (run,) = runs_for_file(instance, "delitos_2019_05.csv")
    assert run.status.value == "SUCCESS", failure_text(instance, run.run_id)
    meta = latest_metadata(instance, "raw_crime", "2019-05")
    total = len(bad_files["may"])
    assert meta["file_unusable_rows"] == 3 and meta["dagster/row_count"] == total - 3
    for line, column in bad_files["may_bad_lines"].items():
        reason = "crime type missing" if column == "tipo" else "date missing, unparseable or out of range"
        assert f"line {line}: {reason}" in meta["file_unusable_examples"]
    assert meta["schema_passed"] is True
    assert any("3 unusable (e.g. line" in message for message in log_messages(instance, run.run_id))
    assert "2019-05" in materialized(instance, "daily_features")
    blocking = [
        e for e in check_evaluations(instance, run.run_id) if e.severity == dg.AssetCheckSeverity.ERROR
    ]
    assert blocking and all(evaluation.passed for evaluation in blocking)  # the data's age only warns


def test_a_file_over_the_bad_row_limit_is_refused_whole(platform: Platform, bad_files):
    instance = platform.instance()
    (run,) = runs_for_file(instance, "delitos_2019_06.csv")
    evaluations = check_evaluations(instance, run.run_id)
    (check,) = [e for e in evaluations if e.asset_key.to_user_string() == "raw_crime"]
    assert not check.passed
    bad = bad_files["june_rows"] // 5 + (1 if bad_files["june_rows"] % 5 else 0)
    assert (
        f"delitos_2019_06.csv refused: {bad} of {bad_files['june_rows']} rows unusable" in check.description
    )
    assert "line 2: date missing, unparseable or out of range" in check.description
    assert "2019-06" not in materialized(instance, "daily_features")  # the blocking check stopped it
    assert (platform.landing / "delitos_2019_06.csv").read_bytes() == bad_files["contents"][
        "delitos_2019_06.csv"
    ]


def test_weather_for_a_refused_month_waits_and_nothing_retrains(
    platform: Platform, bad_files, first_promotion
):
    instance = platform.instance()
    before = len(materializations(instance, "daily_features", "2019-02"))
    drop(
        platform.landing,
        "cammesa.csv",
        builders.to_csv(builders.cammesa(pd.date_range("2019-02-01", "2019-06-30"))),
    )
    weather = lambda: [r for r in runs(instance) if r.tags.get(FILE_TAG, "").startswith("weather@")]  # noqa: E731
    (run,) = wait_finished(instance, weather, 1, 120, "the weather run")
    assert run.status.value == "SUCCESS", failure_text(instance, run.run_id)
    # June's crime file was refused: its weather waits for a corrected file, the other months update.
    assert (
        run.tags["dagster/asset_partition_range_start"],
        run.tags["dagster/asset_partition_range_end"],
    ) == (
        "2019-02",
        "2019-05",
    )
    assert len(materializations(instance, "daily_features", "2019-02")) == before + 1
    assert "2019-06" not in materialized(instance, "daily_features")

    assert len(train_runs(instance)) == 1  # a refused month blocks every retrain (see test_one_retrain...)
    assert api_version(platform) == first_promotion["version"]
    assert platform.predict(OBSERVATION).status_code == 200
    assert health(platform)["status"] == "ready"


# --- recovery: corrected files, a re-release and a release in the 2020 layout, in one burst ---------
RELEASE_2020 = "delitos_2020_release.csv"


@pytest.fixture(scope="module")
def recovery(platform: Platform, bad_files) -> dict[str, Any]:
    """The truncated upload completed, June's file corrected, the 2019 file re-released with other
    content, and a release in the 2020 layout covering April (loaded) and August (new), landed in
    that order."""
    instance = platform.instance()
    built = {month: len(materializations(instance, "daily_features", month)) for month in BASE_MONTHS}
    rereleased = builders.events_for(BASE_MONTHS, per_day=8, seed=11)
    june = builders.release_current(builders.events_for(["2019-06"], per_day=6, seed=6))
    layout_2020 = builders.events_for(["2019-04", "2019-08"], per_day=5, seed=20)
    drop_many(
        platform.landing,
        {
            "broken.csv.gz": bad_files["good_july"],  # the complete upload
            "delitos_2019_06.csv": builders.to_csv(june),  # without the bad rows
            BASE_FILE: builders.to_csv(builders.release_current(rereleased)),
            RELEASE_2020: builders.to_csv(builders.release_2020(layout_2020)),
        },
    )
    for name, count in (("broken.csv.gz", 2), ("delitos_2019_06.csv", 2), (BASE_FILE, 2), (RELEASE_2020, 2)):
        select = lambda name=name: runs_for_file(instance, name)  # noqa: E731
        wait_finished(instance, select, count, 240, f"the runs of {name}")
    wait_finished(instance, lambda: train_runs(instance)[1:], 1, 240, "a retrain")
    wait_quiet(instance, seconds=6)  # more than one automation interval: a second retrain would show
    return {"rereleased": rereleased, "layout_2020": layout_2020, "built": built}


def test_corrected_files_recover_by_themselves(platform: Platform, recovery):
    instance = platform.instance()
    for name in ("broken.csv.gz", "delitos_2019_06.csv"):
        first, second = runs_for_file(instance, name)
        assert second.job_name == "ingest" and second.status.value == "SUCCESS", failure_text(
            instance, second.run_id
        )
        assert second.tags["dagster/run_key"] != first.tags["dagster/run_key"]
    assert {"2019-06", "2019-07"} <= materialized(instance, "daily_features")
    assert latest_metadata(instance, "raw_crime", "2019-06")["schema_passed"] is True
    assert latest_metadata(instance, "raw_crime", "2019-07")["source_file"] == "broken.csv.gz"
    # The rejected runs stay in the history as they were; nothing had to be cleaned up.
    rejected = [r.status.value for r in runs(instance) if r.job_name == "landing_file_rejected"]
    assert rejected == ["FAILURE"] * 4


def test_a_re_release_supersedes_the_loaded_months(platform: Platform, recovery):
    instance = platform.instance()
    first, second = runs_for_file(instance, BASE_FILE)
    assert first.tags["dagster/run_key"] != second.tags["dagster/run_key"]  # a new version, a new run
    assert second.status.value == "SUCCESS"
    # January to March: the new content. April goes to the 2020-layout release landed after it (the
    # run requested for this file covers it too if the sensor saw this file alone first; the winner
    # of a month is decided again when the run executes).
    assert second.tags["dagster/asset_partition_range_start"] == "2019-01"
    assert second.tags["dagster/asset_partition_range_end"] in ("2019-03", "2019-04")
    for month in BASE_MONTHS[:3]:
        meta = latest_metadata(instance, "raw_crime", month)
        assert meta["source_file"] == BASE_FILE
        assert meta["robberies"] == robberies(recovery["rereleased"], month)
        features = latest_metadata(instance, "daily_features", month)
        assert features["robberies"] == robberies(recovery["rereleased"], month)
        assert len(materializations(instance, "daily_features", month)) == recovery["built"][month] + 1


def test_a_release_in_the_2020_layout_wins_the_months_it_overlaps(platform: Platform, recovery):
    instance = platform.instance()
    ingest = runs_for_file(instance, RELEASE_2020)
    assert all(run.status.value == "SUCCESS" for run in ingest)
    assert sorted(run.tags["dagster/asset_partition_range_start"] for run in ingest) == ["2019-04", "2019-08"]
    events = recovery["layout_2020"]
    for month in ("2019-04", "2019-08"):
        meta = latest_metadata(instance, "raw_crime", month)
        assert meta["source_file"] == RELEASE_2020 and meta["layout"] == "delitos_2020"
        assert meta["robberies"] == robberies(events, month)
        assert latest_metadata(instance, "daily_features", month)["robberies"] == robberies(events, month)
    assert len(materializations(instance, "daily_features", "2019-04")) > recovery["built"]["2019-04"]


def test_one_retrain_follows_the_burst(platform: Platform, client: MlflowClient, recovery):
    instance = platform.instance()
    _, retrain = train_runs(instance)  # none while June was refused; one for the whole burst
    assert retrain.status.value == "SUCCESS", failure_text(instance, retrain.run_id)
    challenger = alias_version(client, NAME, CHALLENGER)
    assert challenger.tags["dagster_run_id"] == retrain.run_id
    trained = json.loads(challenger.tags["trained_months"])
    assert trained == [*BASE_MONTHS, "2019-05", "2019-06", "2019-07", "2019-08"]  # refit on every month
    champion = str(alias_version(client, NAME, CHAMPION).version)
    wait(platform, lambda: api_version(platform) == champion, 15, f"the API serving v{champion}")


# --- MLflow down ---------------------------------------------------------------------------------------
def test_with_mlflow_down_a_retrain_fails_clearly_and_the_champion_stays(
    platform: Platform, client: MlflowClient, recovery
):
    instance = platform.instance()
    serving = api_version(platform)
    champion = str(alias_version(client, NAME, CHAMPION).version)
    assert serving == champion
    trained = len(train_runs(instance))

    drop(platform.landing, "delitos_2019_09.csv", crime_csv(["2019-09"], seed=9))  # ingested in ~10 s
    platform.mlflow.stop()  # at once: the retrain that follows the ingest finds no MLflow
    wait(platform, lambda: health(platform)["registry_reachable"] is False, 30, "/health: registry down")
    (ingest,) = wait_finished(
        instance, lambda: runs_for_file(instance, "delitos_2019_09.csv"), 1, 120, "the September ingest"
    )
    assert ingest.status.value == "SUCCESS"  # ingestion needs no MLflow
    (retrain,) = wait_finished(instance, lambda: train_runs(instance)[trained:], 1, 240, "the retrain")
    assert retrain.status.value == "FAILURE"
    error = failure_text(instance, retrain.run_id)
    assert f"MLflow at {platform.tracking_uri} cannot be reached (ConnectError" in error, error
    assert "the champion stays" in error
    assert materialized(instance, "daily_features") >= {"2019-09"}  # the data is in; only the model waits

    # All along, the API answers with the champion it has, and says the registry is unreachable.
    state = health(platform)
    assert state["status"] == "ready" and state["model_version"] == serving
    assert state["registry_error"].startswith("registry unreachable")
    answer = platform.predict(OBSERVATION)
    assert answer.status_code == 200 and answer.json()["model_version"] == serving

    platform.start_mlflow()
    wait(platform, lambda: health(platform)["registry_reachable"] is True, 30, "/health: registry back")
    assert str(alias_version(client, NAME, CHAMPION).version) == champion  # nothing moved
    assert api_version(platform) == serving
