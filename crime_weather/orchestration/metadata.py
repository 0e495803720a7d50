"""Metadata that makes the Dagster UI useful: previews, null rates, row counts, column schemas."""

from __future__ import annotations

import warnings
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """The first rows as a markdown table."""
    head = frame.head(rows)
    lines = ["| " + " | ".join(map(str, head.columns)) + " |", "|" + " --- |" * len(head.columns)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in head.itertuples(index=False)]
    return dg.MetadataValue.md("\n".join(lines))


def null_rates(frame: pd.DataFrame) -> dg.MetadataValue:
    """Share of nulls per column, rounded: the first thing to look at when a source has gaps."""
    rates = frame.isna().mean() if len(frame) else pd.Series(0.0, index=frame.columns)
    return dg.MetadataValue.json({column: round(float(rate), 4) for column, rate in rates.items()})


def date_range(frame: pd.DataFrame, column: str = "date") -> str:
    if frame.empty:
        return "no rows"
    return f"{frame[column].min():%Y-%m-%d} .. {frame[column].max():%Y-%m-%d}"


def column_schema(schema: pa.DataFrameSchema) -> dg.TableSchema:
    """The Pandera schema as Dagster's column schema (through dagster-pandera), shown on the asset page."""
    from dagster_pandera import pandera_schema_to_dagster_type

    with warnings.catch_warnings():  # a beta API we rely on on purpose: no warning in every run's log
        warnings.simplefilter("ignore", dg.BetaWarning)
        return pandera_schema_to_dagster_type(schema).metadata["schema"].schema
