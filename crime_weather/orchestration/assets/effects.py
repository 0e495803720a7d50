"""weather_effects: what the weather does to robberies, refit after each retrain (its condition:
orchestration/conditions.py).

It runs after champion_model so that its table and forest plot land in the champion's MLflow run,
where the API reads them (GET /effects).
"""

import time
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from crime_weather.modeling.effects.artifacts import log_effects
from crime_weather.modeling.effects.estimate import weather_effects as estimate
from crime_weather.modeling.effects.table import (
    COMUNA_COLUMNS,
    TABLE_COLUMNS,
    Effects,
    readable,
    readable_by_comuna,
)
from crime_weather.modeling.registry.tracking import RunLog
from crime_weather.modeling.registry.versions import CHAMPION, alias_version
from crime_weather.modeling.reporting import plots
from crime_weather.orchestration.assets.ingest import daily_features
from crime_weather.orchestration.assets.model import champion_model
from crime_weather.orchestration.conditions import AFTER_RETRAIN
from crime_weather.orchestration.metadata import markdown_table
from crime_weather.orchestration.resources import MlflowTracking


@dg.asset(
    ins={"daily_features": dg.AssetIn(key=daily_features.key)},
    deps=[champion_model],
    automation_condition=AFTER_RETRAIN,
    io_manager_key="warehouse",
    group_name="model",
    kinds={"statsmodels", "mlflow", "parquet"},
)
def weather_effects(
    context: dg.AssetExecutionContext,
    daily_features: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
) -> dg.Output[dict[str, pd.DataFrame]]:
    """Rate ratios (95 % CI, errors clustered by day) of rain, temperature, humidity and wind on
    robberies, and rain per comuna: a GLM with fixed effects over every month (modeling/effects/estimate.py)."""
    features = pd.concat(daily_features.values(), ignore_index=True)
    started = time.perf_counter()
    try:
        effects = estimate(features)
    except ValueError as error:  # a state of the data, not a fault: the retrain run it is part of succeeds
        reason = f"weather effects not estimated: {error}"
        context.log.warning(reason)
        empty = {
            "effects": pd.DataFrame(columns=TABLE_COLUMNS),
            "by_comuna": pd.DataFrame(columns=COMUNA_COLUMNS),
        }
        return dg.Output(empty, metadata={"dagster/row_count": 0, "not_estimated": reason})
    seconds = time.perf_counter() - started
    info = effects.info
    png = plots.forest(
        effects.table,
        effects.by_comuna,
        f"Weather and robberies, {info['first_day']}..{info['last_day']} ({info['family']})",
    )
    with mlflow_tracking.explain_outage():
        run_id, beside = _log(context, mlflow_tracking, effects, png)
    context.log.info(f"weather effects in {seconds:.1f} s, logged {beside}; {info['sample_note']}")
    return dg.Output(
        {"effects": effects.table, "by_comuna": effects.by_comuna},
        metadata={
            "dagster/row_count": len(effects.table),
            "effects": markdown_table(readable(effects.table), rows=len(effects.table)),
            "forest_plot": dg.MetadataValue.md(plots.markdown_image(png, "weather effects forest plot")),
            "rain_by_comuna": markdown_table(
                readable_by_comuna(effects.by_comuna), rows=len(effects.by_comuna)
            ),
            "verdicts": dg.MetadataValue.md("\n".join(f"- {line}" for line in effects.verdicts())),
            "family": info["family"],
            "overdispersion": dg.MetadataValue.float(info["overdispersion"]),
            "sample_days": info["sample_days"],
            "excluded_days": info["excluded_days"],
            "sample": info["sample_note"],
            "rain_heterogeneity_p": dg.MetadataValue.float(info["rain_heterogeneity_p"] or float("nan")),
            "fit_seconds": dg.MetadataValue.float(round(seconds, 2)),
            "logged_beside": beside,
            "mlflow_run": dg.MetadataValue.url(mlflow_tracking.run_url(run_id)),
        },
    )


def _log(
    context: dg.AssetExecutionContext, tracking: MlflowTracking, effects: Effects, png: bytes
) -> tuple[str, str]:
    """Into the champion's run (where the API looks); with no champion yet, into a run of its own.
    Returns the run id and a sentence saying where."""
    client = tracking.client()
    champion = alias_version(client, tracking.registered_model, CHAMPION)
    lineage: dict[str, Any] = {
        "dagster_run_id": context.run.run_id,
        "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_version": str(champion.version) if champion else None,
    }
    if champion is not None:
        run = RunLog(client, champion.run_id, client.get_run(champion.run_id).info.experiment_id)
        log_effects(run, {**effects.as_json(), "lineage": {**lineage, "run_id": run.run_id}}, png)
        return run.run_id, f"beside the champion, {tracking.registered_model} v{champion.version}"
    with tracking.run(context, run_name=f"weather effects {context.run.run_id[:8]}") as run:
        log_effects(run, {**effects.as_json(), "lineage": {**lineage, "run_id": run.run_id}}, png)
    return run.run_id, "in a run of its own: there is no champion yet"
