"""The code location loads as Dagster loads it: every job, sensor, schedule and asset check resolved
together (a job named like an op, two automation sensors on one asset, ... fail only here)."""

from __future__ import annotations

import dagster as dg

from crime_weather.definitions import build_definitions


def test_the_code_location_is_loadable_as_a_whole():
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    job_names = {job.name for job in repository.get_all_jobs()}
    assert {"ingest", "retrain", "forecast", "outlook", "boundaries"} <= job_names
