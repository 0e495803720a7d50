"""Settings per concern, each read where it is used from `CRIME_WEATHER_<FIELD>` (README, "Configuration").

Defaults are the embedded one-machine setup under `CRIME_WEATHER_HOME` (default `./.data`); compose
changes behaviour only through the environment. Every path and URL is derived here, once. Options a
Dagster resource carries are plain models (`TrainingBudget`, ...) it inherits; `XSettings` reads them."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from crime_weather.core.names import FORECAST_MAX_DAYS, MAX_HORIZON_DAYS

OFFICIAL_SOURCE = "official"

DEFAULT_WEATHER_PRIORITY = (
    # The complete SMN daily station files first, then SMN's hourly means ...
    "smn-daily",
    "smn-hourly-means",
    # ... then NOAA GHCN-Daily, the stations inside the city (Observatorio, Aeroparque) first ...
    "ghcnd:AR000875850",
    "ghcnd:ARM00087582",
    "ghcnd",
    # ... then the Open-Meteo reanalysis and, last, CAMMESA's regional mean temperature.
    "open-meteo",
    "cammesa",
)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# `a, b, c` in a variable, not JSON; lists, not tuples: Dagster's config types know lists.
CommaSeparated = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]
CommaSeparatedInts = Annotated[list[int], NoDecode, BeforeValidator(_split_csv)]


class FromEnvironment(BaseSettings):
    """A concern's fields read from `CRIME_WEATHER_<FIELD>`. An empty variable means the default:
    compose passes optional settings as `${VAR:-}`, so defaults stay here, not in docker-compose.yml."""

    model_config = SettingsConfigDict(env_prefix="CRIME_WEATHER_", extra="ignore", env_ignore_empty=True)


class StorageSettings(FromEnvironment):
    """Where things live: the embedded home and the two stores (a folder or S3)."""

    home: Path = Field(default=Path(".data"), description="Root of all embedded state.")
    landing_uri: str | None = Field(
        default=None, description="Landing zone: a folder or s3://bucket/prefix. Default <home>/landing."
    )
    warehouse_uri: str | None = Field(
        default=None, description="Warehouse root: a folder or s3://bucket/prefix. Default <home>/warehouse."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint (SeaweedFS in compose, moto in tests)."
    )

    @cached_property
    def root(self) -> Path:
        """`home`, absolute: every embedded path below hangs from it."""
        return self.home.expanduser().resolve()

    @cached_property
    def landing(self) -> str:
        return self.landing_uri or str(self.root / "landing")

    @cached_property
    def warehouse(self) -> str:
        return self.warehouse_uri or str(self.root / "warehouse")

    @cached_property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME of the embedded platform (its instance: SQLite storage, run logs)."""
        return self.root / "dagster"

    @cached_property
    def logs(self) -> Path:
        """One log per service `make run` starts."""
        return self.root / "logs"

    @cached_property
    def mlflow_backend_uri(self) -> str:
        """The embedded MLflow store (runs and registry): a SQLite file under home."""
        return f"sqlite:///{self.root / 'mlflow' / 'mlflow.db'}"

    @cached_property
    def mlflow_artifacts(self) -> Path:
        return self.root / "mlflow" / "artifacts"


class AcquisitionOptions(BaseModel):
    """Where acquisition gets raw files (URL patterns in one place: crime_weather.sources.official)."""

    source: str = Field(
        default=OFFICIAL_SOURCE,
        description="Where acquisition gets raw files: 'official' (BA Data + Open-Meteo), "
        "'none' (landing zone only), or a local folder used as a mirror.",
    )
    crime_years: CommaSeparatedInts = Field(
        default=list(range(2016, 2024)), description="Years of BA Data crime files to fetch."
    )
    crime_url_template: str | None = Field(
        default=None, description="Override for the crime URL, {year} is filled in."
    )
    open_meteo_url: str = "https://archive-api.open-meteo.com/v1/archive"
    comunas_url: str | None = Field(
        default=None, description="Override for the BA Data 'Comunas' GeoJSON URL (boundaries)."
    )


class AcquisitionSettings(AcquisitionOptions, FromEnvironment): ...


class IngestionOptions(BaseModel):
    """How ingestion resolves weather sources and tolerates defects."""

    weather_priority: CommaSeparated = Field(
        default=list(DEFAULT_WEATHER_PRIORITY), description="Weather sources, the preferred first."
    )
    max_bad_row_share: float = Field(
        default=0.01, ge=0, le=1, description="Refuse a file when more of its rows than this are unusable."
    )


class IngestionSettings(IngestionOptions, FromEnvironment): ...


class TrainingBudget(BaseModel):
    """How a retrain splits, searches and backtests: the one definition modeling and Dagster share."""

    test_months: int = Field(
        default=6,
        ge=1,
        description="The fixed window: the last months, scored by a model trained before them.",
    )
    backtest_folds: int = Field(
        default=12, ge=1, description="Rolling-origin backtest: the last months present, each one a fold."
    )
    search_folds: int = Field(
        default=6, ge=1, description="The search's objective: the monthly folds just before the backtest's."
    )
    calibration_origins: int = Field(
        default=12,
        ge=1,
        description="Month starts before the backtest whose fits calibrate the intervals per horizon "
        "(a year: every season); each costs a fit.",
    )
    search_trials: int = Field(
        default=80,
        ge=1,
        description="Optuna trials of the search (over family, level spec and hyperparameters).",
    )
    search_timeout_seconds: int = Field(
        default=150,
        ge=10,
        description="Time limit of the search: it stops early rather than overrun the retrain.",
    )
    seed: int = 42


class TrainingSettings(TrainingBudget, FromEnvironment): ...


class ForecastOptions(BaseModel):
    """Where robbery_forecast gets the weather forecast of the coming days, and how many days."""

    forecast_source: str = Field(
        default=OFFICIAL_SOURCE,
        description="Where the weather forecast comes from: 'official' (the Open-Meteo forecast API), "
        "a file or a folder (its newest file) in Open-Meteo's or another weather layout, or 'none' (only "
        "forecast files dropped into the landing zone).",
    )
    open_meteo_forecast_url: str = "https://api.open-meteo.com/v1/forecast"
    forecast_days: int = Field(
        default=FORECAST_MAX_DAYS,
        ge=1,
        le=FORECAST_MAX_DAYS,
        description="Days a forecast covers, the issue day first.",
    )
    forecast_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long the forecast source has to answer."
    )
    max_horizon_days: int = Field(
        default=MAX_HORIZON_DAYS,
        ge=1,
        description="Longest horizon (days after the champion's last day of crime data) given counts; "
        "the API reads the same variable (CRIME_WEATHER_MAX_HORIZON_DAYS).",
    )


class ForecastSettings(ForecastOptions, FromEnvironment): ...


class AutomationSettings(FromEnvironment):
    """When schedules fire and how often sensors look (read once, by crime_weather.definitions)."""

    acquisition_cron: str = Field(default="0 6 * * *", description="When acquisition looks for new files.")
    landing_poll_seconds: int = Field(default=15, ge=1, description="How often landing_sensor looks.")
    automation_seconds: int = Field(
        default=30, ge=5, description="How often the retrain conditions are evaluated."
    )
    forecast_cron: str = Field(
        default="0 7 * * *", description="When the daily forecast is issued, in the city's time zone."
    )
    promotion_poll_seconds: int = Field(
        default=30, ge=5, description="How often forecast_on_promotion looks at the champion alias."
    )


class TrackingSettings(StorageSettings):
    """Where runs and models are tracked; the default store lives under home, hence the storage fields."""

    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI. Default: sqlite under <home>/mlflow."
    )
    mlflow_ui_url: str | None = Field(
        default=None, description="MLflow as a browser reaches it, for links (default: the tracking URI)."
    )
    mlflow_experiment: str = "crime_weather"
    registered_model: str = "crime_weather"

    @cached_property
    def tracking_uri(self) -> str:
        """Where runs and models are tracked: the configured URI, else the embedded store directly."""
        return self.mlflow_tracking_uri or self.mlflow_backend_uri

    @cached_property
    def artifact_location(self) -> str | None:
        """Where a new experiment keeps artifacts when MLflow runs without a server."""
        if self.tracking_uri == self.mlflow_backend_uri:
            return self.mlflow_artifacts.as_uri()
        return None


class ServiceSettings(FromEnvironment):
    """The ports of the Dagster UI and the MLflow server `make run` starts, on loopback."""

    dagster_port: int = 3000
    mlflow_port: int = Field(default=5001, description="Port of the MLflow server `make run` starts.")

    @cached_property
    def mlflow_server_url(self) -> str:
        """The MLflow server `make run` starts over the embedded store (loopback only)."""
        return f"http://127.0.0.1:{self.mlflow_port}"

    @cached_property
    def dagster_url(self) -> str:
        return f"http://127.0.0.1:{self.dagster_port}"


class PlatformSettings(TrackingSettings, ServiceSettings):
    """What every process of the embedded platform shares: its paths, MLflow and the ports."""


class Settings(
    PlatformSettings,
    AcquisitionSettings,
    IngestionSettings,
    TrainingSettings,
    ForecastSettings,
    AutomationSettings,
):
    """Every concern of the platform: for `make run`'s supervisor (it starts the whole platform) and
    checks over every variable. The API's own settings live with it (serving/settings.py)."""


def get_settings() -> Settings:
    """Fresh settings from the current environment (tests change it between calls)."""
    return Settings()
