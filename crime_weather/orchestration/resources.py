"""Small configurable resources: the warehouse IO manager, the landing zone, MLflow, the sources and
the policies of ingestion and training.

A resource that carries options inherits their fields from the model in core.settings (one
definition, one set of names) and is built from the settings in one call:
`IngestPolicy(**IngestionSettings().model_dump())`.
The others are built from the paths and URLs core.settings derives (`LandingZone.of(storage)`).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Self

import dagster as dg
import pandas as pd
from mlflow.tracking import MlflowClient

from crime_weather.core.settings import (
    OFFICIAL_SOURCE,
    AcquisitionOptions,
    ForecastOptions,
    IngestionOptions,
    StorageSettings,
    TrackingSettings,
    TrainingBudget,
)
from crime_weather.core.storage import BlobInfo, BlobStore, frame_to_parquet, open_store, parquet_to_frame
from crime_weather.modeling.registry import tracking
from crime_weather.modeling.registry.tracking import RunLog, client_for, experiment_id
from crime_weather.sources.catalog import LandingFile, describe
from crime_weather.sources.files import RawFile, open_raw
from crime_weather.sources.forecast import WeatherForecast, city_day, fetch_forecast, open_meteo_unreachable


@lru_cache(maxsize=8)
def _store(uri: str, endpoint_url: str | None) -> BlobStore:
    return open_store(uri, endpoint_url)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Parquet at `<warehouse>/<asset>/<YYYY-MM>.parquet` (partitioned) or `<asset>/<name>.parquet`.

    Partitioned assets exchange `{partition_key: DataFrame}` so one run can carry many months;
    unpartitioned table assets exchange `{name: DataFrame}` (e.g. train and test).
    """

    uri: str
    s3_endpoint_url: str | None = None

    @classmethod
    def of(cls, storage: StorageSettings) -> Self:
        return cls(uri=storage.warehouse, s3_endpoint_url=storage.s3_endpoint_url)

    @property
    def store(self) -> BlobStore:
        return _store(self.uri, self.s3_endpoint_url)

    def _asset_dir(self, context: dg.InputContext | dg.OutputContext) -> str:
        return "/".join(context.asset_key.path)

    def handle_output(self, context: dg.OutputContext, obj: dict[str, pd.DataFrame] | None) -> None:
        if obj is None:
            return
        folder = self._asset_dir(context)
        expected = set(context.asset_partition_keys) if context.has_asset_partitions else set(obj)
        if set(obj) != expected:
            raise dg.Failure(f"{folder}: produced {sorted(obj)} but the run covers {sorted(expected)}")
        for name, frame in obj.items():
            self.store.write(f"{folder}/{name}.parquet", frame_to_parquet(frame))
        context.add_output_metadata({"warehouse": dg.MetadataValue.path(f"{self.store.uri}/{folder}")})

    def load_input(self, context: dg.InputContext) -> dict[str, pd.DataFrame]:
        folder = self._asset_dir(context)
        if context.has_asset_partitions:
            names = list(context.asset_partition_keys)
        else:
            names = [
                info.key.rsplit("/", 1)[-1].removesuffix(".parquet") for info in self.store.list(folder + "/")
            ]
        return {name: parquet_to_frame(self.store.read(f"{folder}/{name}.parquet")) for name in names}


@lru_cache(maxsize=256)
def _describe_cached(uri: str, endpoint_url: str | None, info: BlobInfo) -> LandingFile:
    return describe(info, _store(uri, endpoint_url).read(info.key))


class LandingZone(dg.ConfigurableResource):
    """Where users (and acquisition) drop raw files. The platform only ever reads it."""

    uri: str
    s3_endpoint_url: str | None = None

    @classmethod
    def of(cls, storage: StorageSettings) -> Self:
        return cls(uri=storage.landing, s3_endpoint_url=storage.s3_endpoint_url)

    @property
    def store(self) -> BlobStore:
        return _store(self.uri, self.s3_endpoint_url)

    def files(self) -> list[LandingFile]:
        """Every file, described; a file is re-read only when its version changes."""
        return [_describe_cached(self.uri, self.s3_endpoint_url, info) for info in self.store.list()]

    def files_landed_on(self, day: dt.date) -> list[LandingFile]:
        """The files that landed on a day of the city's calendar, described; the others are not read
        (a forecast run need not parse every crime file to find today's forecast)."""
        return [
            _describe_cached(self.uri, self.s3_endpoint_url, info)
            for info in self.store.list()
            if city_day(info.modified) == day
        ]

    def open(self, file: LandingFile) -> RawFile:
        return open_raw(self.store.read(file.key), file.key)


class AcquisitionSource(AcquisitionOptions, dg.ConfigurableResource):
    """Where the acquisition job fetches raw files from (CRIME_WEATHER_SOURCE and its URLs)."""


class IngestPolicy(IngestionOptions, dg.ConfigurableResource):
    """How ingestion resolves sources and tolerates defects."""


class MlflowTracking(dg.ConfigurableResource):
    """MLflow for the model assets: one tracking URI, one experiment, one registered model.

    Replaces dagster-mlflow's `mlflow_tracking`, which opens one MLflow run when the resource starts
    and needs an op hook to close it: declarative automation launches asset runs without hooks, so
    those runs would stay open. Here each model asset opens and closes its own run (FAILED on error),
    through an explicit client: nothing is set in MLflow's process-wide state.
    """

    tracking_uri: str
    experiment: str
    registered_model: str
    artifact_location: str | None = None
    ui_url: str | None = None  # MLflow as a browser reaches it (in compose, not the service name)

    @classmethod
    def of(cls, settings: TrackingSettings) -> Self:
        """The URIs the settings resolve (the embedded store under home by default)."""
        return cls(
            tracking_uri=settings.tracking_uri,
            experiment=settings.mlflow_experiment,
            registered_model=settings.registered_model,
            artifact_location=settings.artifact_location,
            ui_url=settings.mlflow_ui_url,
        )

    def client(self) -> MlflowClient:
        return client_for(self.tracking_uri)

    def experiment_id(self) -> str:
        return experiment_id(self.client(), self.experiment, self.artifact_location)

    @contextmanager
    def run(self, context: dg.AssetExecutionContext, run_name: str) -> Iterator[RunLog]:
        """A parent MLflow run tagged with the Dagster run; ended FAILED if the body raises."""
        with self.explain_outage():
            client, experiment = self.client(), self.experiment_id()
            tags = {"dagster_run_id": context.run.run_id, "dagster_asset": context.asset_key.to_user_string()}
            with tracking.run(client, experiment, run_name, tags) as run:
                yield run

    def unreachable(self) -> str | None:
        """Why the tracking server cannot be reached, or None when it answers (or is not a server)."""
        if not self.tracking_uri.startswith(("http://", "https://")):
            return None
        import httpx

        try:
            httpx.get(f"{self.tracking_uri.rstrip('/')}/health", timeout=5)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
        return None

    @contextmanager
    def explain_outage(self) -> Iterator[None]:
        """An error raised while MLflow is down becomes a failure that says so (MLflow's own error,
        after its client's retries, is a long HTTP stack trace)."""
        try:
            yield
        except dg.Failure:
            raise
        except Exception as error:
            reason = self.unreachable()
            if reason is None:
                raise
            raise dg.Failure(
                description=f"MLflow at {self.tracking_uri} cannot be reached ({reason}). The model "
                "registry did not change: the champion stays. The retrain runs again with the next "
                "new data, or now with `make retrain` once MLflow is back.",
                metadata={"tracking_uri": self.tracking_uri, "error": f"{type(error).__name__}: {error}"},
            ) from error

    def _browser_root(self) -> str | None:
        root = self.ui_url or (self.tracking_uri if self.tracking_uri.startswith("http") else None)
        return root.rstrip("/") if root else None

    def run_url(self, run_id: str) -> str:
        root = self._browser_root()
        return f"{root}/#/experiments/{self.experiment_id()}/runs/{run_id}" if root else f"runs:/{run_id}"

    def version_url(self, version: str) -> str:
        root = self._browser_root()
        return (
            f"{root}/#/models/{self.registered_model}/versions/{version}"
            if root
            else f"models:/{self.registered_model}/{version}"
        )


class TrainingPolicy(TrainingBudget, dg.ConfigurableResource):
    """How the model is split, searched and backtested (CRIME_WEATHER_TEST_MONTHS, _SEARCH_*, ...)."""

    def budget(self) -> TrainingBudget:
        """The budget alone, for modeling: no Dagster object goes below orchestration."""
        return TrainingBudget(**self.model_dump())


class ForecastSource(ForecastOptions, dg.ConfigurableResource):
    """Where the weather forecast comes from (CRIME_WEATHER_FORECAST_SOURCE) and how many days it covers."""

    @property
    def name(self) -> str:
        """The source as a user configured it, for messages: the API's URL, a path, or none."""
        official = self.forecast_source == OFFICIAL_SOURCE
        return self.open_meteo_forecast_url if official else self.forecast_source

    def unreachable(self) -> str | None:
        """Why the forecast API does not answer now, or None (always None for a file or a folder:
        a missing one is a configuration error the run reports)."""
        if self.forecast_source != OFFICIAL_SOURCE:
            return None
        return open_meteo_unreachable(self.open_meteo_forecast_url, min(self.forecast_timeout_seconds, 5.0))

    def fetch(self, priority: list[str]) -> WeatherForecast:
        """The current forecast; ForecastSourceError (naming the source) when it does not answer."""
        return fetch_forecast(
            self.forecast_source,
            self.open_meteo_forecast_url,
            self.forecast_days,
            self.forecast_timeout_seconds,
            priority,
        )
