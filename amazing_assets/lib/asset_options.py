"""Helpers shared by the asset modules: run months and Markdown metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from amazing_assets.lib import retries
from amazing_assets.lib.delta_tables import confined_dataset, month_filter
from amazing_assets.lib.partitions import month_of, monthly_partitions
from amazing_assets.lib.storage import Location


def run_months(context: dg.AssetExecutionContext) -> list[str]:
    """Months of this run: one partition, or every month of a single-run backfill range."""
    return sorted(month_of(k) for k in context.partition_keys)


def markdown_table(rows: Iterable[Mapping[str, object]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value).replace("|", "\\|")


# Columns a preview never shows: raw identifiers, and pseudonymous keys too. Dagster keeps
# metadata in its event log for good; a key there would outlive an erasure of the customer.
IDENTIFYING_COLUMNS = ("user_id", "user_session", "user_key", "session_key", "_raw_line")


def without_id_shapes(rows: list[dict]) -> list[dict]:
    """``rows`` with anything shaped like a raw id or session masked in every column: an id can
    sit in any field of an export (a user id typed into ``brand``), and previews stay in
    Dagster's event log for good."""
    from amazing_assets.lib.observability.ecs import redacted

    return [{k: redacted(v, key=k) for k, v in row.items()} for row in rows]


def preview_markdown(spark_df, limit: int = 10) -> dg.MetadataValue:
    """A few rows as Markdown (``limit`` rows only are collected), identifying columns left out
    and id-shaped values masked in the others."""
    shown = spark_df.drop(*IDENTIFYING_COLUMNS)
    rows = [r.asDict() for r in shown.limit(limit).collect()]
    return dg.MetadataValue.md(markdown_table(without_id_shapes(rows), shown.columns))


def stored_preview(location: Location, months: list[str], limit: int = 10) -> dg.MetadataValue:
    """:func:`preview_markdown` of a stored table's first rows, read with pyarrow: a Spark read
    would first open every file's footer to plan its tasks (thousands of files at 42 M events)."""
    dataset = confined_dataset(location)
    columns = [n for n in dataset.schema.names if n not in IDENTIFYING_COLUMNS]
    head = dataset.head(limit, columns=columns, filter=month_filter(months))
    return dg.MetadataValue.md(markdown_table(without_id_shapes(head.to_pylist()), columns))


# The retry policy and what it retries live in amazing_assets.lib.retries (re-exported here).
TRANSIENT_RETRY = retries.TRANSIENT_RETRY
is_transient = retries.is_transient
retry_only_transient = retries.retry_only_transient


# No backfill policy: Dagster's backfills then launch one run per month, tagged with that month
# (dagster/partition). A bad month fails its own run and no other, and every check result is
# tied to its month: Dagster ties them only to a run's partition tag, which BackfillPolicy.
# multi_run(1) does not set (it tags a range of one month; its check results had no month).
# The cost, measured in docs/DECISIONS.md, is one Spark start-up per month.


OWNERS = ["team:data-engineering"]
"""Who answers for the pipeline's assets (shown in the Dagster UI, used by its alerting)."""


def monthly_asset_options(code_version: str, *, owners: bool = True) -> dict:
    """What every asset shares: monthly partitions, one month per run, transient retries.

    ``code_version``: bump it when the asset's output for the same input changes (a rule, a
    feature, a model setting); Dagster then marks the months materialised before as stale, so
    a re-run is visible instead of silently mixing versions. ``owners=False`` for multi-assets,
    which take owners on each output.
    """
    options = {
        "partitions_def": monthly_partitions,
        "retry_policy": TRANSIENT_RETRY,
        "code_version": code_version,
    }
    return {**options, "owners": OWNERS} if owners else options


def rejected(message: str) -> dg.Failure:
    """A failure caused by the data or the configuration: retrying cannot fix it."""
    return dg.Failure(description=message, allow_retries=False)
