"""A tiny blob store over a local folder or an S3 prefix, and the warehouse's parquet encoding.

The landing zone and the warehouse use the same two operations everywhere (list with versions,
read, write atomically), so the embedded default (folders) and compose (SeaweedFS) run the same code.
The parquet helpers live here, not with the Dagster IO manager, because the API reads the warehouse
too (GET /forecast) and has no Dagster.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Files a user or a tool is still writing, and our own temporary files: never treated as data.
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")


@dataclass(frozen=True)
class BlobInfo:
    """One stored object: its key relative to the store, a content version and when it landed."""

    key: str
    version: str
    size: int
    modified: float


class BlobStore(Protocol):
    uri: str

    def list(self, prefix: str = "") -> list[BlobInfo]: ...

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...


def is_visible(key: str) -> bool:
    """Hidden files, temporary files and partial downloads are not data."""
    parts = key.split("/")
    return not any(part.startswith(".") for part in parts) and not key.endswith(_IGNORED_SUFFIXES)


class LocalStore:
    """A folder. Writes go through a temporary file and a rename, so readers never see half a file."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def list(self, prefix: str = "") -> list[BlobInfo]:
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        infos = []
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            key = path.relative_to(self.root).as_posix()
            if not is_visible(key):
                continue
            stat = path.stat()
            infos.append(BlobInfo(key, f"{stat.st_size}-{stat.st_mtime_ns}", stat.st_size, stat.st_mtime))
        return infos

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store:
    """A bucket and prefix, through boto3 (SeaweedFS in compose, S3 on a cluster, moto in tests)."""

    def __init__(self, uri: str, endpoint_url: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        parsed = urlparse(uri)
        self.uri = uri
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def list(self, prefix: str = "") -> list[BlobInfo]:
        infos = []
        paginator = self.client.get_paginator("list_objects_v2")
        root = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=root + prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(root) :]
                if key and not key.endswith("/") and is_visible(key):
                    infos.append(
                        BlobInfo(key, item["ETag"].strip('"'), item["Size"], item["LastModified"].timestamp())
                    )
        return sorted(infos, key=lambda info: info.key)

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True


def open_store(uri: str, endpoint_url: str | None = None) -> BlobStore:
    """`s3://bucket/prefix` -> S3Store, anything else -> a local folder."""
    if uri.startswith("s3://"):
        return S3Store(uri, endpoint_url)
    return LocalStore(uri)


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
    return buffer.getvalue()


def parquet_to_frame(data: bytes) -> pd.DataFrame:
    """A warehouse table, strings as pandas' pyarrow strings (the dtype the schemas expect)."""
    table = pq.read_table(io.BytesIO(data))
    return table.to_pandas(
        types_mapper={
            pa.string(): pd.StringDtype("pyarrow"),
            pa.large_string(): pd.StringDtype("pyarrow"),
        }.get
    )
