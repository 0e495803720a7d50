"""Open a landing file whatever its packaging: csv, csv.gz or a zip with one csv (or Open-Meteo JSON).

Files are recognised by content, never by name: compression by magic bytes, layout by header.
"""

from __future__ import annotations

import gzip
import io
import json
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_RDS_MAGICS = (b"X\n", b"A\n", b"B\n", b"RDX2\n", b"RDX3\n")
_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]


class LandingFileError(ValueError):
    """A landing file that cannot be read; the message names the file and what was expected."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name
        self.problem = problem


@dataclass(frozen=True)
class BadRow:
    """A row the parser or a normaliser could not use, with where it is and why."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "a row"
        return f"{where}: {self.reason}"


@dataclass
class RawFile:
    """A decompressed landing file with its sniffed dialect and normalised column names."""

    name: str
    payload: bytes
    format: str  # "csv" | "json" | "binary"
    columns: tuple[str, ...] = ()
    encoding: str = "utf8"
    delimiter: str = ","
    skip_rows: int = 0
    json_data: Any = None
    _raw_columns: tuple[str, ...] = field(default=(), repr=False)

    def read(self, wanted: Iterable[str]) -> tuple[pa.Table, list[BadRow]]:
        """The wanted columns (normalised names) as strings, plus the rows that did not parse."""
        if self.format != "csv":
            raise LandingFileError(self.name, f"is {self.format}, not a CSV table")
        wanted = [column for column in dict.fromkeys(wanted) if column in self.columns]
        by_normal = dict(zip(self.columns, self._raw_columns, strict=True))
        raw_names = [by_normal[column] for column in wanted]
        bad: list[BadRow] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append(
                BadRow(
                    row.number,
                    f"expected {row.expected_columns} fields, found {row.actual_columns}",
                )
            )
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(self.payload),
                read_options=pacsv.ReadOptions(
                    encoding=self.encoding,
                    skip_rows=self.skip_rows,
                    column_names=list(self._raw_columns),
                    skip_rows_after_names=1,
                    block_size=8 << 20,
                ),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    include_columns=raw_names,
                    column_types={name: pa.string() for name in raw_names},
                    null_values=_NULLS,
                    strings_can_be_null=True,
                ),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            raise LandingFileError(self.name, f"is not a readable CSV table ({error})") from error
        return table.rename_columns(wanted), bad


def normalise_column(name: str) -> str:
    """Lower case, no accents, '-' as '_': releases spell the same column `id-mapa` or `id_mapa`,
    `anio` or `año`."""
    name = name.strip().strip("\ufeff").strip().strip('"').strip("'").strip().lower()
    name = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return name.replace("-", "_")


def decompress(data: bytes, name: str) -> bytes:
    """The file's bytes with gzip or single-member zip packaging removed."""
    if not data:
        raise LandingFileError(name, "is empty (expected a CSV table, csv.gz, or a zip with one CSV)")
    if data.startswith(_GZIP_MAGIC):
        try:
            return gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise LandingFileError(name, f"is a damaged or truncated gzip file ({error})") from error
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
                ]
                if len(members) != 1:
                    listed = ", ".join(info.filename for info in members) or "nothing"
                    raise LandingFileError(name, f"is a zip that must hold exactly one CSV, found {listed}")
                return archive.read(members[0])
        except (zipfile.BadZipFile, EOFError, zlib.error) as error:
            raise LandingFileError(name, f"is a damaged or truncated zip file ({error})") from error
    return data


def _decode_head(head: bytes) -> tuple[str, str]:
    try:
        return head.decode("utf-8"), "utf8"
    except UnicodeDecodeError as error:
        if error.start > len(head) - 4:  # a multi-byte character cut by the head's end
            return head[: error.start].decode("utf-8"), "utf8"
        return head.decode("latin-1"), "latin1"


def _split_header(line: str, delimiter: str) -> list[str]:
    import csv

    return next(csv.reader([line], delimiter=delimiter))


def open_raw(data: bytes, name: str) -> RawFile:
    """Decompress and sniff a landing file: its format, encoding, delimiter and header."""
    payload = decompress(data, name)
    if payload.startswith(_RDS_MAGICS) or b"\x00" in payload[:4096]:
        return RawFile(name, payload, "binary")
    head, encoding = _decode_head(payload[:65536])
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise LandingFileError(name, "holds no data (expected a CSV header line)")
    if stripped[0] in "{[":
        try:
            return RawFile(name, payload, "json", json_data=json.loads(payload))
        except json.JSONDecodeError as error:
            raise LandingFileError(name, f"looks like JSON but does not parse ({error})") from error
    lines = head.splitlines()
    skip = 0
    # Open-Meteo CSV exports start with a location preamble and a blank line before the table.
    if lines and normalise_column(lines[0].split(",")[0]) == "latitude" and "" in lines:
        skip = lines.index("") + 1
    header_line = lines[skip] if skip < len(lines) else ""
    delimiter = max((",", ";", "\t", "|"), key=header_line.count)
    raw_columns = tuple(_split_header(header_line, delimiter)) if header_line else ()
    columns = tuple(normalise_column(column) for column in raw_columns)
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise LandingFileError(name, "has no CSV header line with distinct column names")
    return RawFile(
        name,
        payload,
        "csv",
        columns=columns,
        encoding=encoding,
        delimiter=delimiter,
        skip_rows=skip,
        _raw_columns=raw_columns,
    )
