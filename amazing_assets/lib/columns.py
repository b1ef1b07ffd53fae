"""The list options shared by the project's Spark data sources (Delta and landing CSV).

Python data sources get no column pruning from Spark: every column of every row crosses from the
Python worker to the JVM. A query that needs a few columns names them in this option, and the
reader decodes and ships only those.
"""

from __future__ import annotations

import pyarrow as pa


def comma_list(text: str | None) -> list[str]:
    """A data source option holding a comma-separated list (months, columns), blanks dropped."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def selected_columns(schema: pa.Schema, columns: str | None, source: str) -> pa.Schema:
    """``schema`` reduced to the comma-separated ``columns`` (all when empty), in its order."""
    wanted = comma_list(columns)
    if not wanted:
        return schema
    unknown = sorted(set(wanted) - set(schema.names))
    if unknown:
        raise ValueError(f"{source}: no column(s) {unknown} in {schema.names}")
    return pa.schema([f for f in schema if f.name in wanted])
