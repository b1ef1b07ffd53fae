"""Helpers shared by the asset modules: run months and Markdown metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg

from amazing_assets.io.delta_tables import month_filter, open_table
from amazing_assets.io.storage import Location
from amazing_assets.partitions import month_of, monthly_partitions


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
    from amazing_assets.observability.ecs import redacted

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
    dataset = open_table(location).to_pyarrow_dataset()
    columns = [n for n in dataset.schema.names if n not in IDENTIFYING_COLUMNS]
    head = dataset.head(limit, columns=columns, filter=month_filter(months))
    return dg.MetadataValue.md(markdown_table(without_id_shapes(head.to_pylist()), columns))


# Transient faults (an S3 hiccup, a lost executor) get two more tries with backoff; the storage
# clients retry individual requests underneath (pyarrow and object_store, 5 attempts).
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


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


def later_steps_use_spark(context: dg.AssetExecutionContext) -> bool:
    """Whether a step after this one in the run's plan materialises a Spark asset.

    Runs execute their steps in the run process, one after the other, in the plan's
    topological order (``in_process_executor``); an asset uses Spark when its kinds say so.
    """
    step_context = context.get_step_execution_context()
    steps = list(step_context.execution_plan.get_steps_to_execute_in_topo_order())
    keys = [step.key for step in steps]
    later = steps[keys.index(step_context.step.key) + 1 :]
    layer = context.job_def.asset_layer
    for step in later:
        assets_def = layer.get_assets_def_for_node(step.node_handle)
        if assets_def is not None and any("spark" in spec.kinds for spec in assets_def.specs):
            return True
    return False


def release_spark_when_done(context: dg.AssetExecutionContext) -> None:
    """Stop the run's Spark JVM once no later step of the run needs it.

    Called by the modelling steps (pandas and scikit-learn): after a real month's ETL the idle
    driver JVM keeps ~4 GiB committed, which the modelling would otherwise sit beside. A step
    that needs Spark later anyway starts a new JVM (seconds), so this only ever costs time
    when the plan says Spark is done, never correctness. A session the run did not start (a
    notebook's, a test session's) is left running.
    """
    from amazing_assets.resources.spark_session import stop_spark_session

    if not later_steps_use_spark(context) and stop_spark_session(only_if_started_by_runs=True):
        context.log.info("Spark is not needed by the rest of this run: its JVM was stopped")
