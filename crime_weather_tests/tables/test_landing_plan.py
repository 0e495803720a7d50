from crime_weather.sources.catalog import CRIME, FORECAST, REJECTED, SKIPPED, WEATHER, LandingFile
from crime_weather.tables.landing_plan import contiguous_segments, plan_ingest


def crime(key, months, landed=1.0, version="1"):
    return LandingFile(key, version, landed, CRIME, "delitos_current", tuple(months))


def weather(key, months, version="1"):
    return LandingFile(key, version, 1.0, WEATHER, "smn_daily", tuple(months))


def test_a_first_load_adds_months_and_one_run_per_crime_file():
    files = [
        crime("a.csv", ["2019-01", "2019-02"], 1),
        crime("b.csv", ["2019-02", "2019-03"], 2),
        weather("w", ["2019-01", "2018-12"]),
    ]
    plan = plan_ingest([], files, [])
    assert plan.new_months == ["2019-01", "2019-02", "2019-03"]
    assert [(run.run_key, run.months, run.rebuilds) for run in plan.runs] == [
        ("a.csv@1", ("2019-01",), CRIME),
        ("b.csv@1", ("2019-02", "2019-03"), CRIME),
    ]  # weather needs no run of its own: every month it touches is refreshed, 2018-12 is unknown


def test_nothing_changed_means_an_empty_plan():
    files = [crime("a.csv", ["2019-01"]), weather("w", ["2019-01"])]
    plan = plan_ingest(files, files, ["2019-01"])
    assert plan.is_empty and plan.runs == [] and plan.new_months == []


def test_a_changed_weather_file_reruns_only_known_months():
    before = [crime("a.csv", ["2019-01", "2019-02"]), weather("w", ["2019-01"])]
    after = [before[0], weather("w", ["2018-12", "2019-01", "2019-02"], version="2")]
    plan = plan_ingest(before, after, ["2019-01", "2019-02"])
    (run,) = plan.runs
    assert run.months == ("2019-01", "2019-02") and run.rebuilds == WEATHER
    assert run.run_key.startswith("weather@")


def test_a_changed_crime_file_reruns_its_months_under_a_new_run_key():
    before = [crime("a.csv", ["2019-01"])]
    after = [crime("a.csv", ["2019-01"], version="2")]
    (run,) = plan_ingest(before, after, ["2019-01"]).runs
    assert run.run_key == "a.csv@2"


def test_a_release_that_is_superseded_everywhere_runs_nothing():
    newer = crime("new.csv", ["2019-01"], landed=5)
    older = crime("old.csv", ["2019-01"], landed=1)
    plan = plan_ingest([newer], [newer, older], ["2019-01"])
    assert plan.runs == [] and plan.changed == [older]


def test_removing_a_file_hands_its_months_to_the_next_newest():
    older, newer = crime("old.csv", ["2019-01", "2019-02"], landed=1), crime("new.csv", ["2019-02"], landed=5)
    plan = plan_ingest([older, newer], [older], ["2019-01", "2019-02"])
    (run,) = plan.runs
    assert run.months == ("2019-02",) and run.run_key.startswith("old.csv@1#after-removal-")
    assert plan.removed == ["new.csv"]


def test_rejected_and_skipped_files_are_reported_not_run():
    bad = LandingFile("bad.csv", "1", 1.0, REJECTED, None, (), "bad.csv: is empty")
    rds = LandingFile("x.rds", "1", 1.0, SKIPPED, None, (), "binary")
    plan = plan_ingest([], [bad, rds], [])
    assert plan.rejected == [bad] and plan.skipped == [rds] and plan.runs == []


def test_contiguous_segments_follow_the_partition_order():
    order = ["2019-01", "2019-02", "2018-12", "2019-03"]  # insertion order, not sorted
    assert contiguous_segments(order, ("2019-01", "2019-02")) == [("2019-01", "2019-02")]
    assert contiguous_segments(order, ("2019-01", "2019-03", "2019-02")) == [
        ("2019-01", "2019-02"),
        ("2019-03", "2019-03"),
    ]
    assert contiguous_segments(order, ()) == []


def test_a_forecast_file_is_planned_as_a_forecast_never_as_weather():
    files = [crime("a.csv", ["2019-01"]), LandingFile("om.json", "1", 5.0, FORECAST, "open_meteo_daily_json")]
    plan = plan_ingest(files[:1], files, ["2019-01"])
    assert [file.key for file in plan.forecasts] == ["om.json"] and plan.runs == []
    assert not plan.is_empty
    unchanged = plan_ingest(files, files, ["2019-01"])
    assert unchanged.is_empty and unchanged.forecasts == []
