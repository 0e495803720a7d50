"""Small configurable resources: the warehouse IO manager and the landing zone."""

import io
from functools import lru_cache

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crime_weather.sources.catalog import LandingFile, describe
from crime_weather.sources.files import RawFile, open_raw
from crime_weather.storage import BlobInfo, BlobStore, open_store


@lru_cache(maxsize=8)
def _store(uri: str, endpoint_url: str | None) -> BlobStore:
    return open_store(uri, endpoint_url)


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    table = pq.read_table(io.BytesIO(data))
    return table.to_pandas(
        types_mapper={
            pa.string(): pd.StringDtype("pyarrow"),
            pa.large_string(): pd.StringDtype("pyarrow"),
        }.get
    )


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Parquet at `<warehouse>/<asset>/<YYYY-MM>.parquet` (partitioned) or `<asset>/<name>.parquet`.

    Partitioned assets exchange `{partition_key: DataFrame}` so one run can carry many months;
    unpartitioned table assets exchange `{name: DataFrame}` (e.g. train and test).
    """

    uri: str
    s3_endpoint_url: str | None = None

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

    @property
    def store(self) -> BlobStore:
        return _store(self.uri, self.s3_endpoint_url)

    def files(self) -> list[LandingFile]:
        """Every file, described; a file is re-read only when its version changes."""
        return [_describe_cached(self.uri, self.s3_endpoint_url, info) for info in self.store.list()]

    def open(self, file: LandingFile) -> RawFile:
        return open_raw(self.store.read(file.key), file.key)


class IngestPolicy(dg.ConfigurableResource):
    """How ingestion resolves sources and tolerates defects."""

    weather_priority: list[str]
    max_bad_row_share: float = 0.01
