"""robbery_forecast: the coming days' robberies per comuna from the weather forecast and the champion.

One partition per issue date (the city's calendar). The weather comes from the newest forecast file
that landed in the landing zone on the issue date, else from CRIME_WEATHER_FORECAST_SOURCE (the
Open-Meteo forecast API by default). When it runs: schedules/forecast.py (daily), sensors/forecast.py
(after a promotion) and sensors/landing.py (a forecast file lands).
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pandas as pd
from sklearn.pipeline import Pipeline

from crime_weather.core.names import FORECAST_TABLE, INTERVAL_LEVELS, WEATHER_FIELDS
from crime_weather.modeling.forecasting.forecast import city_totals, forecast_table
from crime_weather.modeling.forecasting.horizon import data_through
from crime_weather.modeling.registry.versions import CHAMPION, alias_version, load_pipeline
from crime_weather.modeling.reporting import plots
from crime_weather.orchestration.checks import schema_check, schema_result
from crime_weather.orchestration.metadata import column_schema, markdown_table
from crime_weather.orchestration.partitions import issue_dates
from crime_weather.orchestration.resources import ForecastSource, IngestPolicy, LandingZone, MlflowTracking
from crime_weather.sources.catalog import FORECAST, LandingFile, newest_first
from crime_weather.sources.forecast import ForecastSourceError, WeatherForecast, read_forecast
from crime_weather.tables.schemas import robbery_forecast_schema
from crime_weather.tables.validation import validate_forecast

LANDING_FORECAST = dg.AssetSpec(
    "landing_forecast_files",
    group_name="landing",
    kinds={"json", "csv"},
    description="Weather forecast files in the landing zone (weather whose days run past the day it landed), "
    "seen by landing_sensor; never ingested as observed weather.",
)


def landed_forecast(landing: LandingZone, issue: dt.date) -> LandingFile | None:
    """The newest forecast file that landed on the issue date: a forecast dropped by hand (or by a
    tool) that day is what the user wants used, and the way to forecast offline."""
    files = [file for file in newest_first(landing.files_landed_on(issue)) if file.kind == FORECAST]
    return files[0] if files else None


def _forecast_weather(
    issue: dt.date, landing: LandingZone, source: ForecastSource, priority: list[str]
) -> WeatherForecast:
    file = landed_forecast(landing, issue)
    if file is not None:
        where = f"{landing.uri.rstrip('/')}/{file.key}"
        try:
            return WeatherForecast(
                where, read_forecast(landing.store.read(file.key), file.key, priority).frame
            )
        except ForecastSourceError as error:
            raise dg.Failure(description=f"forecast file {where}: {error.problem}") from error
    try:
        return source.fetch(priority)
    except ForecastSourceError as error:
        raise dg.Failure(
            description=f"No weather forecast for {issue}: {error}. No forecast file landed in "
            f"{landing.uri} on {issue} either: drop one there (Open-Meteo's forecast JSON or CSV) to "
            "issue the forecast without the source.",
            metadata={"forecast_source": source.name, "problem": error.problem, "landing_zone": landing.uri},
        ) from error


def _champion(tracking: MlflowTracking) -> tuple[str, Pipeline]:
    """The champion's version and pipeline, from the registry through an explicit client."""
    name = tracking.registered_model
    if reason := tracking.unreachable():
        raise dg.Failure(
            f"MLflow at {tracking.tracking_uri} cannot be reached ({reason}): no champion to forecast "
            "with. The forecast is issued again at the next daily run or promotion."
        )
    version = alias_version(tracking.client(), name, CHAMPION)
    if version is None:
        raise dg.Failure(
            f"No '{CHAMPION}' alias on registered model {name} yet: a forecast needs a champion. "
            "forecast_on_promotion issues one as soon as a model is promoted."
        )
    return str(version.version), load_pipeline(tracking.tracking_uri, version)


def _city_table(totals: pd.DataFrame) -> pd.DataFrame:
    """The city total per day as people read it: the expected count and each band as 'low-high'."""
    table = pd.DataFrame(
        {"date": totals["date"].dt.strftime("%a %Y-%m-%d"), "expected": totals["expected_robberies"].round(1)}
    )
    for level in INTERVAL_LEVELS:
        low, high = totals[f"interval_{level}_low"], totals[f"interval_{level}_high"]
        table[f"{level} %"] = low.astype(str) + "-" + high.astype(str)
    return table


def _city_metadata(issue: str, totals: pd.DataFrame) -> dict[str, object]:
    """The city's total per day, as a table and a plot (only for days with counts)."""
    if totals.empty:
        return {}
    plot = plots.forecast_band(totals, f"Robberies in Buenos Aires, forecast of {issue}")
    return {
        "city_expected_robberies": dg.MetadataValue.float(
            round(float(totals["expected_robberies"].sum()), 1)
        ),
        "city_per_day": markdown_table(_city_table(totals), rows=16),
        "city_forecast": dg.MetadataValue.md(
            plots.markdown_image(plot, "city total per day with 80 % and 95 % bands")
        ),
    }


def _metadata(
    issue: str, table: pd.DataFrame, weather: pd.DataFrame, tracking: MlflowTracking
) -> dict[str, object]:
    version, source = str(table["model_version"].iloc[0]), str(table["weather_source"].iloc[0])
    days = f"{table['date'].min():%Y-%m-%d}..{table['date'].max():%Y-%m-%d} ({table['date'].nunique()} days)"
    reasons = table["reason"].dropna()
    return {
        "dagster/row_count": len(table),
        "days": days,
        "horizon_days": f"{table['horizon_days'].min()}..{table['horizon_days'].max()}",
        "rows_without_counts": len(reasons),
        **({"reason": str(reasons.iloc[0])} if len(reasons) else {}),
        "model_version": version,
        "mlflow_model": dg.MetadataValue.url(tracking.version_url(version)),
        "weather_source": source,
        "issued_at": table["issued_at"].iloc[0].isoformat(),
        **_city_metadata(issue, city_totals(table)),
        "weather_used": markdown_table(weather[["date", *WEATHER_FIELDS]], rows=16),
        "preview": markdown_table(
            table.drop(columns=["model_version", "weather_source", "issued_at", "reason"]), rows=15
        ),
    }


@dg.asset(
    name=FORECAST_TABLE,
    partitions_def=issue_dates,
    io_manager_key="warehouse",
    deps=[LANDING_FORECAST, "champion_model"],
    check_specs=[
        schema_check(FORECAST_TABLE, "Complete (day x comuna) grid of the issue's days, nested intervals.")
    ],
    group_name="forecast",
    kinds={"pandas", "parquet", "mlflow"},
    metadata={"dagster/column_schema": column_schema(robbery_forecast_schema())},
)
def robbery_forecast(
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    forecast_source: ForecastSource,
    mlflow_tracking: MlflowTracking,
    ingest_policy: IngestPolicy,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Expected robberies with 80 % and 95 % Poisson intervals for every (day, comuna) of the issue's
    days, predicted by the champion from the weather forecast. An issue that breaks its schema is not
    stored: the API keeps serving the previous one."""
    key = context.partition_key
    issue, days = dt.date.fromisoformat(key), forecast_source.forecast_days
    forecast = _forecast_weather(issue, landing, forecast_source, list(ingest_policy.weather_priority))
    weather = forecast.window(issue, days)
    if weather.empty:
        raise dg.Failure(
            f"The forecast from {forecast.source} covers {forecast.days}, none of the issue's days "
            f"{issue}..{issue + dt.timedelta(days=days - 1)}: a forecast cannot be issued for days already past."
        )
    version, pipeline = _champion(mlflow_tracking)
    through = data_through(pipeline)
    table = forecast_table(
        weather,
        pipeline.predict,
        model_version=version,
        weather_source=forecast.source,
        issued_at=pd.Timestamp.now(tz="UTC"),
        data_through=through,
        max_horizon_days=forecast_source.max_horizon_days,
    )
    beyond = int(table["expected_robberies"].isna().sum())
    context.log.info(
        f"forecast {key}: {len(weather)} days x 15 comunas, champion v{version} (data through "
        f"{through:%Y-%m-%d}), weather {forecast.source}"
        + (
            f"; {beyond} rows beyond the {forecast_source.max_horizon_days}-day horizon: no counts"
            if beyond
            else ""
        )
    )
    if problem := validate_forecast(table, key, days):
        yield schema_result({key: problem}, [key])
        raise dg.Failure(f"robbery_forecast {key} breaks its schema and is not stored: {problem}")
    yield dg.Output({key: table}, metadata=_metadata(key, table, weather, mlflow_tracking))
    yield schema_result({}, [key])
