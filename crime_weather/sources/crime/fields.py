"""The canonical fields of a crime event from a release's raw text: dates, types, hours, comunas, coordinates, counts.

Normalisation is vectorised (pyarrow compute) and done once per distinct value where values repeat:
the goal is >= 500k rows/s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crime_weather.sources.crime.layouts import CrimeLayout

# Coordinates outside this box are not in Buenos Aires (zero, swapped or without a decimal point).
LATITUDE_RANGE = (-34.75, -34.50)
LONGITUDE_RANGE = (-58.56, -58.33)
EARLIEST_DATE = dt.date(2000, 1, 1)

# First words of crime types that are plural in some releases.
_TYPE_SINGULAR = {"homicidios": "homicidio", "robos": "robo", "hurtos": "hurto"}


def coalesce(table: pa.Table, columns: tuple[str, ...]) -> pa.ChunkedArray:
    """The first non-null value among the columns present (all null when none is)."""
    present = [table[column] for column in columns if column in table.column_names]
    if not present:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    if len(present) == 1:
        return present[0]
    return pc.coalesce(*present)


def blank_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


_ISO = r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:$|[ T])"
_DAY_FIRST = r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}|\d{2})(?:$|[ T])"


def parse_dates(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO dates (optionally with a time), dd/mm/yy and dd/mm/yyyy; anything else becomes null.

    Components are validated (Arrow's strptime would turn 31/02 into 03/03 without a word).
    """
    values = pc.fill_null(pc.utf8_trim_whitespace(values), "")
    iso = pc.extract_regex(values, _ISO)
    day_first = pc.extract_regex(values, _DAY_FIRST)

    def component(index_iso: int, index_day_first: int) -> np.ndarray:
        text = pc.coalesce(
            pc.if_else(pc.is_valid(iso), pc.struct_field(iso, [index_iso]), None),
            pc.if_else(pc.is_valid(day_first), pc.struct_field(day_first, [index_day_first]), None),
        )
        return pc.cast(text, pa.int32()).to_numpy(zero_copy_only=False)

    year, month, day = component(0, 2), component(1, 1), component(2, 0)
    year = np.where(year < 100, year + 2000, year)  # dd/mm/yy: every release is from this century
    parsed = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    return pa.chunked_array([pa.array(parsed.to_numpy(), type=pa.timestamp("ns"), from_pandas=True)])


def leading_int(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """The first run of digits of each value ("Comuna 3" -> 3, "03:30:00" -> 3, "12.0" -> 12)."""
    digits = pc.struct_field(pc.extract_regex(pc.fill_null(values, ""), r"^\D*?(?P<n>\d{1,3})"), [0])
    digits = pc.if_else(pc.is_valid(values), digits, pa.scalar(None, pa.string()))
    digits = pc.if_else(pc.equal(digits, ""), pa.scalar(None, pa.string()), digits)
    return pc.cast(digits, pa.int16())


def in_range(values: pa.ChunkedArray, low: float, high: float) -> pa.ChunkedArray:
    inside = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
    return pc.if_else(inside, values, pa.scalar(None, values.type))


def to_float(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Decimal comma or point; "SD", "S/D" and other text become null."""
    text = pc.utf8_trim_whitespace(pc.replace_substring(values, ",", "."))
    numeric = pc.match_substring_regex(text, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
    return pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())


def split_type(raw_type: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """ "Robo (Con violencia)" -> ("robo", "con violencia"); "Homicidios" -> ("homicidio", null)."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(raw_type))
    parts = pc.extract_regex(lowered, r"^(?P<kind>[^\s(]+)\s*\(?(?P<rest>[^)]*)\)?")
    kind = pc.struct_field(parts, [0])
    rest = blank_to_null(pc.struct_field(parts, [1]))
    for plural, singular in _TYPE_SINGULAR.items():
        kind = pc.if_else(pc.equal(kind, plural), singular, kind)
    kind = pc.if_else(pc.is_valid(lowered), kind, pa.scalar(None, pa.string()))
    kind = pc.if_else(pc.equal(kind, ""), pa.scalar(None, pa.string()), kind)
    return kind, rest


def per_distinct(values: pa.ChunkedArray, transform: Callable) -> pa.ChunkedArray:
    """Apply an array transform to each distinct value once, then spread the results back.

    Dates, types, comunas and hours repeat thousands of times: transforming ~700 distinct strings
    instead of 240k rows is what makes parsing run at >= 500k rows/s.
    """
    encoded = pc.dictionary_encode(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    result = transform(pa.chunked_array([encoded.dictionary]))
    if isinstance(result, tuple):
        return tuple(pc.take(part, encoded.indices) for part in result)
    return pc.take(result, encoded.indices)


def as_bool(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numpy mask, null counting as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def date_window(dates: pa.ChunkedArray, today: dt.date | None) -> pa.ChunkedArray:
    """Dates before 2000 or in the future are defects, not events."""
    low = pa.scalar(dt.datetime.combine(EARLIEST_DATE, dt.time()), dates.type)
    high = pa.scalar(dt.datetime.combine(today or dt.date.today(), dt.time()), dates.type)
    return pc.and_(pc.greater_equal(dates, low), pc.less_equal(dates, high))


def subtype(table: pa.Table, layout: CrimeLayout, type_rest: pa.ChunkedArray) -> pa.ChunkedArray:
    """The subtype column where the layout has one, else what the type carried in parentheses."""
    if not layout.crime_subtype:
        return type_rest
    given = per_distinct(coalesce(table, (layout.crime_subtype,)), lambda v: blank_to_null(pc.utf8_lower(v)))
    return pc.coalesce(given, type_rest)


def count(table: pa.Table, layout: CrimeLayout) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Events per row (1 where the layout has no count column) and which rows' counts are usable."""
    n = table.num_rows
    if not layout.count:
        return pa.chunked_array([pa.array(np.ones(n, dtype="int64"))]), np.ones(n, dtype=bool)
    given = to_float(coalesce(table, (layout.count,)))
    whole = pc.and_(pc.greater_equal(given, 0), pc.equal(pc.floor(given), given))
    usable = as_bool(pc.or_kleene(pc.is_null(given), whole))
    return pc.cast(pc.fill_null(pc.if_else(whole, given, 1.0), 1.0), pa.int64()), usable


def coordinates(table: pa.Table, layout: CrimeLayout) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Latitude and longitude, both null unless the pair falls inside the city."""
    latitude = to_float(coalesce(table, (layout.latitude,)))
    longitude = to_float(coalesce(table, (layout.longitude,)))
    located = pc.and_(
        pc.and_(pc.greater_equal(latitude, LATITUDE_RANGE[0]), pc.less_equal(latitude, LATITUDE_RANGE[1])),
        pc.and_(
            pc.greater_equal(longitude, LONGITUDE_RANGE[0]), pc.less_equal(longitude, LONGITUDE_RANGE[1])
        ),
    )
    nothing = pa.scalar(None, pa.float64())
    return pc.if_else(located, latitude, nothing), pc.if_else(located, longitude, nothing)


def hour(table: pa.Table, layout: CrimeLayout) -> pa.ChunkedArray:
    """Hour of the day 0..23 from the first hour column filled ("03:30:00", "3", "SD" -> null)."""
    return per_distinct(
        coalesce(table, layout.hour), lambda v: pc.cast(in_range(leading_int(v), 0, 23), pa.int8())
    )


def comuna(table: pa.Table, layout: CrimeLayout) -> pa.ChunkedArray:
    """Comuna 1..15 ("Comuna 3", "14.0"); anything else is null."""
    return per_distinct(
        coalesce(table, (layout.comuna,)), lambda v: pc.cast(in_range(leading_int(v), 1, 15), pa.int8())
    )
