"""Metadata that makes the Dagster UI useful: previews, null rates, row counts, column schemas."""

from __future__ import annotations

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
    """The Pandera schema as Dagster's column schema, shown on the asset's page."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=str(column.dtype),
                description="; ".join(str(check.error or check.name) for check in column.checks) or None,
                constraints=dg.TableColumnConstraints(nullable=column.nullable, unique=column.unique),
            )
            for name, column in schema.columns.items()
        ]
    )


def failure_summary(error: Exception, limit: int = 10) -> str:
    """Pandera's lazy errors, shortened to the failing checks and a few failure cases."""
    from pandera.errors import SchemaErrors

    if isinstance(error, SchemaErrors):
        cases = error.failure_cases
        lines = []
        for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
            examples = ", ".join(map(str, group["failure_case"].head(3).tolist()))
            lines.append(f"{column}: {check} ({len(group)} failures, e.g. {examples})")
        return "\n".join(lines[:limit])
    return str(error)
