"""The crime_weather code location: assets, checks, sensors and resources, configured by environment."""

import dagster as dg

from crime_weather.core.settings import (
    AcquisitionSettings,
    AutomationSettings,
    ForecastSettings,
    IngestionSettings,
    StorageSettings,
    TrackingSettings,
    TrainingSettings,
)
from crime_weather.orchestration.assets.boundaries import comuna_boundaries
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
from crime_weather.orchestration.assets.outlook import champion_outlook
from crime_weather.orchestration.assets.scorecard import forecast_scorecard
from crime_weather.orchestration.freshness import crime_data_age
from crime_weather.orchestration.jobs import (
    acquisition,
    forecast_job,
    ingest_job,
    landing_file_rejected,
    outlook_job,
    retrain_job,
)
from crime_weather.orchestration.resources import (
    AcquisitionSource,
    ForecastSource,
    IngestPolicy,
    LandingZone,
    MlflowTracking,
    TrainingPolicy,
    WarehouseIOManager,
)
from crime_weather.orchestration.schedules.acquisition import build_acquisition_schedule
from crime_weather.orchestration.schedules.forecast import build_daily_schedule
from crime_weather.orchestration.sensors import outlook, scorecard
from crime_weather.orchestration.sensors.forecast import build_promotion_sensor
from crime_weather.orchestration.sensors.landing import build_landing_sensor
from crime_weather.orchestration.sensors.retrain import build_retrain_sensor


def build_resources() -> dict[str, object]:
    """Each resource from the settings of its concern, read from the environment now."""
    storage = StorageSettings()
    return {
        "warehouse": WarehouseIOManager.of(storage),
        "landing": LandingZone.of(storage),
        "acquisition_source": AcquisitionSource(**AcquisitionSettings().model_dump()),
        "ingest_policy": IngestPolicy(**IngestionSettings().model_dump()),
        "mlflow_tracking": MlflowTracking.of(TrackingSettings()),
        "training": TrainingPolicy(**TrainingSettings().model_dump()),
        "forecast_source": ForecastSource(**ForecastSettings().model_dump()),
    }


def build_definitions() -> dg.Definitions:
    automation = AutomationSettings()
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
            comuna_boundaries,
            champion_outlook,
            forecast_scorecard,
        ],
        asset_checks=[crime_data_age],
        jobs=[ingest_job, landing_file_rejected, acquisition, forecast_job, retrain_job, outlook_job],
        sensors=[
            build_landing_sensor(automation.landing_poll_seconds),
            build_retrain_sensor(automation.automation_seconds),
            build_promotion_sensor(automation.promotion_poll_seconds),
            outlook.build_outlook_sensor(automation.promotion_poll_seconds),
            scorecard.build_scorecard_sensor(automation.automation_seconds),
        ],
        schedules=[
            build_acquisition_schedule(automation.acquisition_cron),
            build_daily_schedule(automation.forecast_cron),
        ],
        resources=build_resources(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
