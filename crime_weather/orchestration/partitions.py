"""Partitions: monthly for the data, daily for the forecasts.

`months` are added by the landing sensor as crime data for a month first appears. `issue_dates` are
the days a forecast is issued, on the city's calendar, today included (end_offset=1): a forecast is
issued in the morning of its first day.
"""

import warnings
from collections.abc import Callable
from typing import Any

import dagster as dg

from crime_weather.sources.official import CITY_TIMEZONE

months = dg.DynamicPartitionsDefinition(name="months")

FIRST_ISSUE_DATE = "2026-01-01"
issue_dates = dg.DailyPartitionsDefinition(start_date=FIRST_ISSUE_DATE, timezone=CITY_TIMEZONE, end_offset=1)

# One partition per champion version: sensors/outlook.py adds each version as the `champion` alias
# reaches it, and champion_outlook stores that champion's six-month claims under it.
champion_versions = dg.DynamicPartitionsDefinition(name="champion_versions")


def monthly_asset(**asset_kwargs: Any) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """@dg.asset on `months`, many months per run (one run scores or loads a first load of 50 months).

    `backfill_policy` is a beta API we rely on: its warning is silenced for these decorations only.
    """

    def decorate(function: Callable[..., Any]) -> dg.AssetsDefinition:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            return dg.asset(
                partitions_def=months, backfill_policy=dg.BackfillPolicy.single_run(), **asset_kwargs
            )(function)

    return decorate
