"""Crime files mapped to one canonical event table, with the rows that could not be used.

The layout comes from the file's description when there is one (`LandingFile.layout`, through
`layouts.layout_named`): ingest finds it once, when the file is described, not again when it is parsed.
Without one it is detected from the header. Layouts: README, "Drop new data: the landing zone".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crime_weather.core.months import months_of
from crime_weather.core.names import CRIME_COLUMNS
from crime_weather.sources.crime import fields
from crime_weather.sources.crime.layouts import CrimeLayout, layout_of
from crime_weather.sources.files import BadRow, RawFile

_BAD_ROW_SAMPLES = 20


@dataclass
class CrimeParse:
    """A crime file mapped to the canonical schema, with what could not be used."""

    events: pd.DataFrame
    layout: str
    rows_read: int
    bad_rows: int
    bad_samples: list[BadRow]

    @property
    def bad_share(self) -> float:
        return self.bad_rows / self.rows_read if self.rows_read else 0.0

    @property
    def months(self) -> list[str]:
        return months_of(self.events["date"])


def _bad_rows(checks: dict[str, np.ndarray], line_offset: int) -> list[BadRow]:
    """Sample lines (1-based, in the file) of each reason a row is unusable."""
    return [
        BadRow(int(index) + line_offset, reason)
        for reason, bad in checks.items()
        for index in np.flatnonzero(bad)[:_BAD_ROW_SAMPLES]
    ]


def _unique_ids(events: pd.DataFrame, name: str) -> None:
    """Official ids are missing for some rows of some releases: make them unique within the file."""
    missing = events["event_id"].isna().to_numpy()
    if missing.any():
        events.loc[missing, "event_id"] = [f"{name}#{i}" for i in np.flatnonzero(missing)]


def parse_crime(
    raw: RawFile, *, layout: CrimeLayout | None = None, today: dt.date | None = None
) -> CrimeParse:
    """Map a crime file to canonical events; rows without a usable date or type are counted as bad.

    `layout`: the layout the file was described with (`layout_named(raw, file.layout)`), used as is;
    None detects it from the header.
    """
    chosen = layout or layout_of(raw)
    table, bad_samples = raw.read(chosen.source_columns)
    unparsed, n = len(bad_samples), table.num_rows

    dates = fields.per_distinct(fields.coalesce(table, (chosen.date,)), fields.parse_dates)
    crime_type, type_rest = fields.per_distinct(
        fields.coalesce(table, (chosen.crime_type,)), fields.split_type
    )
    count, count_ok = fields.count(table, chosen)
    date_ok = fields.as_bool(fields.date_window(dates, today))
    type_ok = fields.as_bool(pc.is_valid(crime_type))
    good = date_ok & type_ok & count_ok
    bad_samples += _bad_rows(
        {
            "date missing, unparseable or out of range": ~date_ok,
            "crime type missing": ~type_ok,
            "count is not a non-negative integer": ~count_ok,
        },
        raw.skip_rows + 2,  # 1-based line numbers after the header
    )
    latitude, longitude = fields.coordinates(table, chosen)
    canonical = pa.table(
        {
            "event_id": fields.blank_to_null(fields.coalesce(table, chosen.event_id)),
            "date": pc.cast(dates, pa.timestamp("ns")),
            "hour": fields.hour(table, chosen),
            "crime_type": crime_type,
            "crime_subtype": fields.subtype(table, chosen, type_rest),
            "comuna": fields.comuna(table, chosen),
            "barrio": fields.per_distinct(fields.coalesce(table, (chosen.barrio,)), fields.blank_to_null),
            "latitude": latitude,
            "longitude": longitude,
            "count": count,
            "source_file": pa.repeat(pa.scalar(raw.name), n),
        }
    ).filter(pa.array(good))
    events = to_canonical_frame(canonical)
    _unique_ids(events, raw.name)
    bad_rows = unparsed + int((~good).sum())
    return CrimeParse(events, chosen.name, n + unparsed, bad_rows, bad_samples[:_BAD_ROW_SAMPLES])


_PANDAS_TYPES = {
    pa.string(): pd.StringDtype("pyarrow"),
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.int8(): pd.Int8Dtype(),
}


def to_canonical_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas with the canonical dtypes (Arrow-backed strings, nullable small ints)."""
    frame = table.select(list(CRIME_COLUMNS)).to_pandas(types_mapper=_PANDAS_TYPES.get)
    frame["date"] = frame["date"].astype("datetime64[ns]")
    return frame


def crime_months(
    raw: RawFile, *, layout: CrimeLayout | None = None, today: dt.date | None = None
) -> list[str]:
    """The months a crime file covers, reading only its date column (cheap: used by the sensor).

    `layout`: the file's layout when the caller has already found it; None detects it.
    """
    chosen = layout or layout_of(raw)
    table, _ = raw.read([chosen.date])
    dates = fields.per_distinct(table[chosen.date], fields.parse_dates)
    dates = dates.filter(pc.fill_null(fields.date_window(dates, today), False))
    keys = pc.unique(pc.add(pc.multiply(pc.year(dates), 100), pc.month(dates))).to_pylist()
    return [f"{key // 100:04d}-{key % 100:02d}" for key in sorted(keys)]
