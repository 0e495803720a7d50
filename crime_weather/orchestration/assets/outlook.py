"""champion_outlook: at each promotion, the champion's claims for the next six months, stored to be graded.

One partition per champion version (sensors/outlook.py adds it when the `champion` alias moves). The
claims and the naive levels are computed by modeling.forecasting.outlook; this asset fetches the
version and the history, validates and stores `champion_outlook/<version>.parquet`.
"""

from collections.abc import Iterator

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from mlflow.exceptions import MlflowException

from crime_weather.core.names import OUTLOOK_TABLE
from crime_weather.modeling.forecasting.forecast import city_totals
from crime_weather.modeling.forecasting.horizon import MAX_HORIZON_DAYS
from crime_weather.modeling.forecasting.outlook import outlook_table
from crime_weather.modeling.registry.versions import load_pipeline
from crime_weather.modeling.reporting import plots
from crime_weather.orchestration.checks import schema_check, schema_result
from crime_weather.orchestration.metadata import column_schema, markdown_table
from crime_weather.orchestration.partitions import champion_versions
from crime_weather.orchestration.resources import MlflowTracking
from crime_weather.tables.schemas import champion_outlook_schema
from crime_weather.tables.validation import summarize_cases


def outlook_problem(table: pd.DataFrame, version: str) -> str | None:
    """Why an outlook breaks its schema, or None."""
    try:
        champion_outlook_schema(version, MAX_HORIZON_DAYS).validate(table, lazy=True)
    except pa.errors.SchemaErrors as error:
        return summarize_cases(error.failure_cases.reset_index(drop=True))
    return None


def _metadata(table: pd.DataFrame, version: str, tracking: MlflowTracking) -> dict[str, object]:
    totals = city_totals(table)
    monthly = (
        table.assign(month=table["date"].dt.strftime("%Y-%m"))
        .groupby("month")[["expected_robberies", "naive_28d", "naive_365d"]]
        .sum()
        .round(0)
        .reset_index()
    )
    plot = plots.forecast_band(totals, f"Outlook of champion v{version} (normal weather)")
    return {
        "dagster/row_count": len(table),
        "model_version": version,
        "mlflow_model": dg.MetadataValue.url(tracking.version_url(version)),
        "data_through": f"{table['data_through'].iloc[0]:%Y-%m-%d}",
        "days": f"{table['date'].min():%Y-%m-%d}..{table['date'].max():%Y-%m-%d}",
        "issued_at": table["issued_at"].iloc[0].isoformat(),
        "city_per_month": markdown_table(monthly, rows=8),
        "city_outlook": dg.MetadataValue.md(
            plots.markdown_image(plot, "city total per day, 80 % and 95 % bands")
        ),
    }


@dg.asset(
    name=OUTLOOK_TABLE,
    partitions_def=champion_versions,
    io_manager_key="warehouse",
    ins={"daily_features": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    deps=["champion_model"],
    check_specs=[
        schema_check(
            OUTLOOK_TABLE, "Complete (day x comuna) grid of the horizon, nested intervals, naive levels."
        )
    ],
    group_name="forecast",
    kinds={"pandas", "parquet", "mlflow"},
    metadata={"dagster/column_schema": column_schema(champion_outlook_schema())},
)
def champion_outlook(
    context: dg.AssetExecutionContext,
    daily_features: dict[str, pd.DataFrame],
    mlflow_tracking: MlflowTracking,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The champion version's expected robberies, 80 %/95 % intervals and the naive levels known then,
    for every comuna-day from the day after its data ends to `max_horizon_days` later, under normal
    weather. Stored to be graded by forecast_scorecard as each month's counts land."""
    version = context.partition_key
    with mlflow_tracking.explain_outage():
        try:
            registered = mlflow_tracking.client().get_model_version(mlflow_tracking.registered_model, version)
        except MlflowException as error:
            raise dg.Failure(
                f"Version {version} of {mlflow_tracking.registered_model} is not in the registry: no outlook."
            ) from error
        pipeline = load_pipeline(mlflow_tracking.tracking_uri, registered)
    history = pd.concat(daily_features.values(), ignore_index=True) if daily_features else pd.DataFrame()
    try:
        table = outlook_table(pipeline, version, history)
    except (ValueError, KeyError) as error:
        raise dg.Failure(f"No outlook for v{version}: {error}") from error
    context.log.info(
        f"outlook of v{version}: {table['date'].min():%Y-%m-%d}..{table['date'].max():%Y-%m-%d} x 15 comunas"
    )
    if problem := outlook_problem(table, version):
        yield schema_result({version: problem}, [version])
        raise dg.Failure(f"champion_outlook v{version} breaks its schema and is not stored: {problem}")
    yield dg.Output({version: table}, metadata=_metadata(table, version, mlflow_tracking))
    yield schema_result({}, [version])
