"""forecast_scorecard: each month, every stored claim on it graded against the counts that landed.

Monthly partitions, like daily_features: when a month's daily_features lands or changes, the month is
scored again (eager automation, sensors/scorecard.py) and its rows replace the previous ones. The
claims are read from the warehouse as stored (champion_outlook/<version>.parquet,
robbery_forecast/<issue date>.parquet); the scoring is modeling.forecasting.scorecard, the verdicts and
live_* metrics modeling.forecasting.grading. The checks warn, never block: a drifting model is news,
not a reason to stop the data.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from crime_weather.core.names import FORECAST_MAX_DAYS, FORECAST_TABLE, OUTLOOK_TABLE, SCORECARD_TABLE, TARGET
from crime_weather.core.storage import parquet_to_frame
from crime_weather.modeling.forecasting.forecast import city_totals
from crime_weather.modeling.forecasting.grading import (
    calibration_failures,
    champion_rows,
    log_live_metrics,
    naive_failures,
)
from crime_weather.modeling.forecasting.scorecard import (
    OUTLOOK,
    forecast_issues_touching,
    month_claims,
    score_claims,
)
from crime_weather.modeling.registry.versions import CHAMPION, alias_version
from crime_weather.modeling.reporting import plots
from crime_weather.orchestration.checks import SCHEMA_CHECK, schema_check, schema_result
from crime_weather.orchestration.metadata import column_schema, markdown_table
from crime_weather.orchestration.partitions import monthly_asset
from crime_weather.orchestration.resources import MlflowTracking, WarehouseIOManager
from crime_weather.tables.schemas import forecast_scorecard_schema
from crime_weather.tables.validation import summarize_cases

CALIBRATED, BEATS_NAIVE = "calibrated", "beats_naive"
AC = dg.AutomationCondition

# Scored when the month's features land or change, never on features whose blocking checks failed.
SCORE_ON_NEW_FEATURES = (
    AC.eager() & ~AC.any_deps_match(AC.any_checks_match(AC.check_failed(), blocking_only=True))
).with_label("score when the month's counts land or change")

_SHOWN = ["source", "source_key", "horizon", "n", "poisson_deviance", "mae", "pred_over_obs"]
_SHOWN += ["coverage_80", "coverage_95", "best_naive", "best_naive_poisson_deviance"]


def _names(warehouse: WarehouseIOManager, folder: str) -> list[str]:
    """The partition keys stored under `folder` (file names without .parquet)."""
    return sorted(
        info.key.rsplit("/", 1)[-1].removesuffix(".parquet")
        for info in warehouse.store.list(f"{folder}/")
        if info.key.endswith(".parquet")
    )


def _read(warehouse: WarehouseIOManager, folder: str, names: list[str]) -> dict[str, pd.DataFrame]:
    return {name: parquet_to_frame(warehouse.store.read(f"{folder}/{name}.parquet")) for name in names}


def stored_claims(warehouse: WarehouseIOManager, month: str) -> pd.DataFrame:
    """Every outlook and every forecast issue in the warehouse that claims a day of `month` (only the
    issues whose week reaches into it are read)."""
    outlooks = _read(warehouse, OUTLOOK_TABLE, _names(warehouse, OUTLOOK_TABLE))
    issues = forecast_issues_touching(month, _names(warehouse, FORECAST_TABLE), FORECAST_MAX_DAYS)
    return month_claims(outlooks, _read(warehouse, FORECAST_TABLE, issues), month)


def scorecard_problem(table: pd.DataFrame, month: str) -> str | None:
    """Why a month's scorecard breaks its schema, or None."""
    try:
        forecast_scorecard_schema(month).validate(table, lazy=True)
    except pa.errors.SchemaErrors as error:
        return summarize_cases(error.failure_cases.reset_index(drop=True))
    return None


def _champion(tracking: MlflowTracking, log: dg.DagsterLogManager) -> tuple[bool, str | None]:
    """Whether MLflow answers, and the serving champion's version. Down, the month is still scored
    and stored; its verdicts and live_* metrics wait for the next scoring."""
    if reason := tracking.unreachable():
        log.warning(
            f"MLflow at {tracking.tracking_uri} cannot be reached ({reason}): the month is scored, "
            "but no champion is judged and no live_* metric is logged."
        )
        return False, None
    version = alias_version(tracking.client(), tracking.registered_model, CHAMPION)
    return True, (str(version.version) if version is not None else None)


def _band_plot(claims: pd.DataFrame, observed: pd.DataFrame, version: str | None, month: str) -> str:
    days = observed.groupby("date")[TARGET].sum().rename("observed").reset_index()
    mine = (
        claims[(claims["source"] == OUTLOOK) & (claims["model_version"] == version)]
        if len(claims)
        else claims
    )
    title = f"Robberies in {month}: observed"
    if len(mine):
        totals = city_totals(mine.assign(date=pd.to_datetime(mine["date"])))
        days = days.merge(totals, on="date", how="left")
        title += f" vs the outlook of champion v{version}"
    png = plots.observed_in_band(days, title)
    return plots.markdown_image(png, "observed city total per day and the claimed band")


def _schema_verdict(problems: dict[str, str], months: list[str]) -> dg.AssetCheckResult:
    """The blocking schema check's verdict, named: this asset has three checks."""
    return schema_result(problems, months)._replace(
        check_name=SCHEMA_CHECK, asset_key=dg.AssetKey(SCORECARD_TABLE)
    )


@dataclass(frozen=True)
class MonthScore:
    """One month of the run: its scorecard table, the claims scored and why nothing was, if so."""

    month: str
    table: pd.DataFrame
    claims: pd.DataFrame
    skipped: str | None

    def judged(self, version: str | None) -> str:
        """What a passing check looked at on this month."""
        if self.skipped:
            return f"nothing scored on {self.month}: {self.skipped}"
        if version is None:
            return f"no serving champion to judge on {self.month}"
        if champion_rows(self.table, version).empty:
            return f"no outlook of champion v{version} covers a week or more of {self.month}"
        return f"champion v{version} on {self.month}: within bounds at every horizon scored"


def _verdict(
    name: str, failures: list[str], scores: list[MonthScore], version: str | None
) -> dg.AssetCheckResult:
    """Failures name version, month, horizon and figures; a pass says what was (or was not) judged."""
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=dg.AssetKey(SCORECARD_TABLE),
        passed=not failures,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(failures or [score.judged(version) for score in scores]),
        metadata={
            "champion_version": version or "",
            "months": [score.month for score in scores],
            "failures": failures,
        },
    )


def _score_month(warehouse: WarehouseIOManager, month: str, observed: pd.DataFrame) -> MonthScore:
    claims = stored_claims(warehouse, month)
    scored = score_claims(claims, observed)
    return MonthScore(month, scored.table, claims, scored.reason)


@monthly_asset(
    name=SCORECARD_TABLE,
    io_manager_key="warehouse",
    ins={"daily_features": dg.AssetIn()},
    automation_condition=SCORE_ON_NEW_FEATURES,
    check_specs=[
        schema_check(SCORECARD_TABLE, "One row per (claim source, horizon), shares in [0, 1], scores >= 0."),
        dg.AssetCheckSpec(
            CALIBRATED,
            asset=SCORECARD_TABLE,
            blocking=False,
            description="The serving champion's outlook on the month: 80 % coverage in [0.70, 0.90] and "
            "predicted/observed in [0.85, 1.15] at every horizon (WARN).",
        ),
        dg.AssetCheckSpec(
            BEATS_NAIVE,
            asset=SCORECARD_TABLE,
            blocking=False,
            description="The serving champion's outlook on the month has a Poisson deviance no higher than "
            "the best naive level issued with it (WARN).",
        ),
    ],
    group_name="forecast",
    kinds={"pandas", "parquet", "mlflow"},
    metadata={"dagster/column_schema": column_schema(forecast_scorecard_schema())},
)
def forecast_scorecard(
    context: dg.AssetExecutionContext,
    daily_features: dict[str, pd.DataFrame],
    warehouse: dg.ResourceParam[WarehouseIOManager],
    mlflow_tracking: MlflowTracking,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Every stored claim on each month of the run (outlooks by version and horizon month, forecasts
    by issue and lead day) scored against the observed counts, beside the naive levels issued with
    it. Many months land at once (a first load, a re-released year): one run scores them all."""
    partitions = sorted(context.partition_keys)
    scores = [_score_month(warehouse, month, daily_features[month]) for month in partitions]
    reachable, champion = _champion(mlflow_tracking, context.log)
    logged: dict[str, object] = {}
    for score in scores:
        if score.skipped:
            context.log.info(f"forecast_scorecard {score.month} skipped: {score.skipped}")
        elif reachable:
            with mlflow_tracking.explain_outage():
                logged[score.month] = log_live_metrics(
                    mlflow_tracking.client(), mlflow_tracking.registered_model, score.table, score.month
                )
    problems = {s.month: p for s in scores if (p := scorecard_problem(s.table, s.month))}
    if problems:
        yield _schema_verdict(problems, partitions)
        raise dg.Failure(
            f"forecast_scorecard breaks its schema and is not stored: {'; '.join(problems.values())}"
        )
    latest = scores[-1]
    shown = pd.concat([score.table.assign(month=score.month) for score in scores], ignore_index=True)
    metadata: dict[str, object] = {
        "dagster/row_count": sum(len(score.table) for score in scores),
        "serving_champion": champion or "",
        "scores": markdown_table(shown[["month", *_SHOWN]], rows=40),
        "observed_vs_claimed": dg.MetadataValue.md(
            _band_plot(latest.claims, daily_features[latest.month], champion, latest.month)
        ),
        "skipped": {score.month: score.skipped for score in scores if score.skipped},
        "live_metrics_logged_on": dg.MetadataValue.json(logged),
    }
    yield dg.Output({score.month: score.table for score in scores}, metadata=metadata)
    yield _schema_verdict({}, partitions)
    for name, judge in ((CALIBRATED, calibration_failures), (BEATS_NAIVE, naive_failures)):
        failures = [failure for score in scores for failure in judge(score.table, champion)]
        for failure in failures:
            context.log.warning(f"{name}: {failure}")
        yield _verdict(name, failures, scores, champion)
