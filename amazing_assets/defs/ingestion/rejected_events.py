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

from amazing_assets.defs.ingestion.rejected_months import EXAMPLE_LINES, Example
from amazing_assets.lib.asset_options import OWNERS, rejected
from amazing_assets.lib.delta_tables import roll_back_month
from amazing_assets.lib.io_managers import write_months
from amazing_assets.lib.partitions import monthly_partitions, partition_key_of
from amazing_assets.lib.warehouse import WarehouseResource

REJECTED_EVENTS = "rejected_events"

rejected_events = dg.AssetSpec(
    REJECTED_EVENTS,
    code_version="1",
    deps=["raw_events", "clean_events"],
    partitions_def=monthly_partitions,
    group_name="events",
    owners=OWNERS,
    kinds={"delta"},
    description=(
        "The offending rows of refused months (raw zone), for an operator to inspect: written "
        "by raw_events when a month's exports cannot be parsed, and by clean_events when the "
        "cleaning rules would keep too little of a month. A month is replaced at each refusal; "
        "its materialisations are recorded by the step that refused it."
    ),
)
"""Not computed by a step of its own: the refusing step writes it, then fails, so the write is
recorded as a runless materialisation (events of a failing step are dropped with it)."""


def record_rejected_rows(
    context: dg.AssetExecutionContext,
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
    for month in months:
        context.instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=REJECTED_EVENTS,
                partition=partition_key_of(month),
                description=f"rows of {month} refused by {stage}",
                metadata={
                    "table_uri": dg.MetadataValue.path(location.uri),
                    "stage": stage,
                    "run_id": context.run.run_id,
                },
            )
        )
    return location.uri


def examples_of(
    rows: DataFrame, codes: list[str], reason: str, line: Column, wanted: int = EXAMPLE_LINES
) -> list[Example]:
    """``wanted`` example lines: one for each of ``codes`` (most frequent first), then more of
    the first code when there are fewer codes than lines wanted."""
    per_code = {
        code: rows.where(F.col(reason) == code)
        .select("_source_file", line.alias("line"))
        .take(wanted)
        for code in codes[:wanted]
    }
    firsts = [(code, hits[0]) for code, hits in per_code.items() if hits]
    extra = [(codes[0], hit) for hit in per_code.get(codes[0], [])[1:]] if codes else []
    return [Example(hit["_source_file"], code, hit["line"]) for code, hit in (firsts + extra)][
        :wanted
    ]


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
            # The run recorded a materialisation of ``table`` for the month; record that its
            # data went back, so the latest event in the UI tells the truth. (Events logged by a
            # step that then fails are dropped with it, hence a runless event.)
            context.instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    asset_key=table,
                    partition=partition_key_of(month),
                    description=f"rolled back: {month} was rejected downstream",
                    metadata={
                        "rolled_back_to_version": -1 if version is None else version,
                        "run_id": context.run.run_id,
                    },
                )
            )
    text = "\n\n".join(messages[m] for m in sorted(messages))
    context.log.error(text)
    return rejected(text)
