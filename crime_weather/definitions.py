"""The crime_weather code location: assets, checks, sensors and resources, configured by environment."""

import dagster as dg

from crime_weather.core.settings import Settings, get_settings
from crime_weather.orchestration.assets.effects import weather_effects
from crime_weather.orchestration.assets.forecast import LANDING_FORECAST, robbery_forecast
from crime_weather.orchestration.assets.ingest import (
    LANDING_CRIME,
    LANDING_WEATHER,
    daily_features,
    raw_crime,
    raw_weather,
)
from crime_weather.orchestration.assets.model import challenger_model, champion_model, train_test_split
from crime_weather.orchestration.jobs import (
    acquisition,
    forecast_job,
    ingest_job,
    landing_file_rejected,
    retrain_job,
)
from crime_weather.orchestration.resources import (
    ForecastSource,
    IngestPolicy,
    LandingZone,
    MlflowTracking,
    TrainingPolicy,
    WarehouseIOManager,
)
from crime_weather.orchestration.schedules.acquisition import build_acquisition_schedule
from crime_weather.orchestration.schedules.forecast import build_daily_schedule
from crime_weather.orchestration.sensors.forecast import build_promotion_sensor
from crime_weather.orchestration.sensors.landing import build_landing_sensor
from crime_weather.orchestration.sensors.retrain import build_retrain_sensor


def build_resources(settings: Settings) -> dict[str, object]:
    return {
        "warehouse": WarehouseIOManager(uri=settings.warehouse, s3_endpoint_url=settings.s3_endpoint_url),
        "landing": LandingZone(uri=settings.landing, s3_endpoint_url=settings.s3_endpoint_url),
        "ingest_policy": IngestPolicy(
            weather_priority=list(settings.weather_priority), max_bad_row_share=settings.max_bad_row_share
        ),
        "mlflow_tracking": MlflowTracking(
            tracking_uri=settings.tracking_uri,
            experiment=settings.mlflow_experiment,
            registered_model=settings.registered_model,
            artifact_location=settings.artifact_location,
            ui_url=settings.mlflow_ui_url,
        ),
        "training": TrainingPolicy(
            test_months=settings.test_months,
            backtest_folds=settings.backtest_folds,
            search_folds=settings.search_folds,
            search_trials=settings.search_trials,
            search_timeout_seconds=settings.search_timeout_seconds,
            seed=settings.seed,
        ),
        "forecast_source": ForecastSource(
            source=settings.forecast_source,
            open_meteo_url=settings.open_meteo_forecast_url,
            days=settings.forecast_days,
            timeout_seconds=settings.forecast_timeout_seconds,
        ),
    }


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or get_settings()
    return dg.Definitions(
        assets=[
            LANDING_CRIME,
            LANDING_WEATHER,
            LANDING_FORECAST,
            raw_crime,
            raw_weather,
            daily_features,
            train_test_split,
            challenger_model,
            champion_model,
            weather_effects,
            robbery_forecast,
        ],
        jobs=[ingest_job, landing_file_rejected, acquisition, forecast_job, retrain_job],
        sensors=[
            build_landing_sensor(settings.landing_poll_seconds),
            build_retrain_sensor(settings.automation_seconds),
            build_promotion_sensor(settings.promotion_poll_seconds),
        ],
        schedules=[
            build_acquisition_schedule(settings.acquisition_cron),
            build_daily_schedule(settings.forecast_cron),
        ],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
