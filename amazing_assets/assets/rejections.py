"""Rejecting a month inside an asset, before anything of it is replaced.

Dagster evaluates asset checks after the asset's output is stored, so a blocking check cannot
keep a bad file out of the month's tables. The gates therefore run inside ``raw_events`` and
``clean_events``: a rejected month writes only its offending rows to ``rejected_events`` (raw
zone, one month replaced per rejection), puts back any table of the month this run already
replaced, and fails its run with a message that says what to fix.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from amazing_assets.assets.common import rejected
from amazing_assets.io.delta_tables import roll_back_month
from amazing_assets.io.io_managers import write_months
from amazing_assets.resources.warehouse import WarehouseResource
from amazing_assets.segmentation.rejection import Example

REJECTED_EVENTS = "rejected_events"


def record_rejected_rows(
    warehouse: WarehouseResource,
    rows: DataFrame,
    months: list[str],
    stage: str,
    *,
    reason: Column,
    line: Column,
) -> str:
    """Replace ``months`` of ``rejected_events`` with ``rows``; return the table's URI."""
    location = warehouse.table(REJECTED_EVENTS)
    table = rows.select(
        F.lit(stage).alias("stage"),
        F.col("_source_file").alias("source_file"),
        reason.alias("reason"),
        line.alias("line"),
        F.lit(datetime.now(UTC)).cast("timestamp").alias("rejected_at"),
        F.col("month"),
    )
    write_months(table, location, months, description=f"{REJECTED_EVENTS} {stage} {months}")
    return location.uri


def examples_of(rows: DataFrame, codes: list[str], reason: str, line: Column) -> list[Example]:
    """One example line for each of ``codes`` (the most frequent first)."""
    found = []
    for code in codes:
        hit = rows.where(F.col(reason) == code).select("_source_file", line.alias("line")).first()
        if hit is not None:
            found.append(Example(hit["_source_file"], code, hit["line"]))
    return found


def reject_months(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    messages: dict[str, str],
    roll_back: tuple[str, ...] = (),
) -> dg.Failure:
    """The failure to raise for rejected months, after rolling ``roll_back`` tables back."""
    for month in messages:
        for table in roll_back:
            version = roll_back_month(warehouse.table(table), month)
            context.log.info(f"{table} {month}: rolled back to version {version}")
    text = "\n\n".join(messages[m] for m in sorted(messages))
    context.log.error(text)
    return rejected(text)
