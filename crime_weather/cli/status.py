"""`crime-weather status`: the champion, how fresh the crime data is and the last Dagster runs.

Each part is read on its own: an API that is down does not hide the warehouse or the runs.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from crime_weather.cli.api import CliError, call
from crime_weather.core.months import month_days
from crime_weather.core.settings import Settings
from crime_weather.core.storage import open_store

CRIME_ASSET = "raw_crime"  # DESIGN.md §2: one parquet per month under warehouse/raw_crime/
_MONTH = re.compile(r"(\d{4}-\d{2})\.parquet$")


def champion(url: str) -> dict[str, Any]:
    """The served champion (GET /model): version, data months, data_through; or why there is none."""
    try:
        model = call(url, "GET", "/model")
    except CliError as error:
        return {"error": str(error)}
    months = model.get("trained_months") or []
    return {
        "version": model.get("version"),
        "promoted_at": model.get("promoted_at"),
        "data_months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "data_through": model.get("history_end"),
    }


def freshness(settings: Settings, today: datetime.date | None = None) -> dict[str, Any]:
    """The newest crime month in the warehouse and its age in days (today - its last day)."""
    try:
        keys = [
            blob.key for blob in open_store(settings.warehouse, settings.s3_endpoint_url).list(CRIME_ASSET)
        ]
    except Exception as error:  # an unreachable bucket: say so, show the rest
        return {"error": f"the warehouse {settings.warehouse} cannot be listed ({type(error).__name__})"}
    months = sorted(match[1] for key in keys if (match := _MONTH.search(key)))
    if not months:
        return {"newest_crime_month": None, "crime_months": 0, "age_days": None}
    last_day = month_days(months[-1])[-1].date()
    age = ((today or datetime.date.today()) - last_day).days
    return {"newest_crime_month": months[-1], "crime_months": len(months), "age_days": age}


def last_runs(settings: Settings, limit: int = 5) -> list[dict[str, Any]] | dict[str, str]:
    """The newest runs of the Dagster instance under the platform's DAGSTER_HOME."""
    if not (settings.dagster_home / "dagster.yaml").exists():
        return {"error": f"no Dagster instance at {settings.dagster_home}: `crime-weather run` creates it"}
    import dagster as dg  # slow to import: only here

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.get_run_records(limit=limit)
    return [
        {
            "run_id": record.dagster_run.run_id,
            "job": record.dagster_run.job_name,
            "status": record.dagster_run.status.value,
            "started": _iso(record.start_time),
            "ended": _iso(record.end_time),
        }
        for record in records
    ]


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="seconds")


def gather(url: str, settings: Settings) -> dict[str, Any]:
    return {
        "api": url,
        "champion": champion(url),
        "freshness": freshness(settings),
        "runs": last_runs(settings),
    }


def describe(status: dict[str, Any]) -> list[str]:
    """The human lines of `status`."""
    lines = []
    model = status["champion"]
    if "error" in model:
        lines.append(f"champion: unknown ({model['error']})")
    else:
        lines.append(
            f"champion: v{model['version']}, {model['data_months']} data months "
            f"({model['first_month']} .. {model['last_month']}), data through {model['data_through']}"
        )
    fresh = status["freshness"]
    if "error" in fresh:
        lines.append(f"freshness: unknown ({fresh['error']})")
    elif fresh["newest_crime_month"] is None:
        lines.append("freshness: no crime month in the warehouse yet")
    else:
        lines.append(
            f"freshness: newest crime month {fresh['newest_crime_month']}, "
            f"{fresh['age_days']} days old ({fresh['crime_months']} months in the warehouse)"
        )
    runs = status["runs"]
    if isinstance(runs, dict):
        lines.append(f"runs: {runs['error']}")
    else:
        lines.append("last runs:" if runs else "last runs: none yet")
        lines += [f"  {r['run_id'][:8]} {r['job']:<28} {r['status']:<9} {r['started'] or ''}" for r in runs]
    return lines
