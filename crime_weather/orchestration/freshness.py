"""How old the crime data are: a warning on raw_crime, never a block.

The champion's counts are trusted up to `max_horizon_days` after its last day of crime data
(CRIME_WEATHER_MAX_HORIZON_DAYS); beyond it robbery_forecast issues no counts, only weather rate
ratios. This check shows in the UI the newest crime month ingested and its age in days (from the
month's last day to today, in the city's calendar), and warns once that age exceeds the horizon: new
crime data are what would bring the counts back. It runs with every raw_crime materialization and can
be run from the asset's Checks tab at any time; it blocks nothing.
"""

import time

import dagster as dg
import pandas as pd

from crime_weather.orchestration.resources import ForecastSource
from crime_weather.sources.forecast import city_day

RAW_CRIME = dg.AssetKey("raw_crime")


def crime_age(months: set[str], today: pd.Timestamp, max_horizon_days: int) -> dg.AssetCheckResult:
    """The verdict for the ingested `months` (YYYY-MM): passed while the newest month's last day is at
    most `max_horizon_days` before `today`."""
    if not months:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="no crime month has been ingested yet",
            metadata={"newest_month": "none", "max_horizon_days": max_horizon_days},
        )
    newest = max(months)
    last_day = pd.Period(newest, freq="M").end_time.normalize()
    age = int((today.normalize() - last_day).days)
    fresh = age <= max_horizon_days
    verdict = (
        "counts are issued"
        if fresh
        else "beyond the validated horizon: forecasts carry no counts, only weather rate ratios"
    )
    return dg.AssetCheckResult(
        passed=fresh,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"newest crime month {newest} (through {last_day:%Y-%m-%d}) is {age} days old; {verdict}",
        metadata={
            "newest_month": newest,
            "data_through": f"{last_day:%Y-%m-%d}",
            "age_days": age,
            "max_horizon_days": max_horizon_days,
            "months_ingested": len(months),
        },
    )


@dg.asset_check(
    asset=RAW_CRIME,
    name="crime_data_age",
    blocking=False,
    description="How old the newest crime month is (days since its last day); warns beyond "
    "CRIME_WEATHER_MAX_HORIZON_DAYS, when forecasts stop carrying counts. Never blocks.",
)
def crime_data_age(
    context: dg.AssetCheckExecutionContext, forecast_source: ForecastSource
) -> dg.AssetCheckResult:
    months = context.instance.get_materialized_partitions(RAW_CRIME)
    today = pd.Timestamp(city_day(time.time()))
    return crime_age(months, today, forecast_source.max_horizon_days)
