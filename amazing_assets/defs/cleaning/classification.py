"""Cleaning rules for one or more months of raw events (docs/pipeline.md), as Spark transformations.

Every raw row gets exactly one outcome: kept (``drop_reason`` null) or dropped with the *first*
rule it breaks, in the order of :data:`DROP_REASONS`. Hence the accounting identity
``raw rows = kept + Σ dropped by reason`` holds by construction, and a test asserts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from amazing_assets.defs.cleaning.clean_tables import (
    IDENTIFIER_TOKENS,
    RowsOf,
    clean_rows,
    quarantine_rows,
)
from amazing_assets.defs.cleaning.customer_rules import (
    REASON_BOT_USER,
    REASON_CART_BURST,
    REASON_EXACT_DUPLICATE,
    classify_customer_rows,
)
from amazing_assets.defs.cleaning.row_rules import (
    MEDIAN_INPUT_SCHEMA,
    MEDIANS_SCHEMA,
    REASON_ABSURD_PRICE,
    REASON_NEGATIVE_PRICE,
    REASON_OUTSIDE_MONTH,
    REASON_UNKNOWN_EVENT_TYPE,
    absurd_price_reasons,
    priced_alive,
    row_level_reasons,
)
from amazing_assets.lib.arrow_groups import whole_partition
from amazing_assets.lib.customer_buckets import BUCKET_COLUMN, OUTPUT_BATCH_ROWS
from amazing_assets.lib.delta_source import arrow_schema_for
from amazing_assets.lib.pseudonymize import token_appender

# Rule order matters: a row is charged to the first rule it breaks.
RULE_REASONS: tuple[str, ...] = (
    REASON_UNKNOWN_EVENT_TYPE,
    REASON_OUTSIDE_MONTH,
    REASON_NEGATIVE_PRICE,
    REASON_ABSURD_PRICE,
    REASON_CART_BURST,
    REASON_EXACT_DUPLICATE,
    REASON_BOT_USER,
)
"""Rule reasons; rows with an ingestion defect are dropped first, with their defect code."""


@dataclass(frozen=True)
class CleaningRules:
    """Thresholds of the cleaning rules (published facts about the real data, docs/pipeline.md)."""

    bot_events_per_active_day: float = 300.0
    """A user averaging more events per active day than this is a bot (≈285 users in REES46)."""
    max_price: float = 100_000.0
    """Any price above this is absurd whatever the category (real max ≈ $2,574)."""
    absurd_price_factor: float = 50.0
    """A price above this many times its category's median price is absurd..."""
    min_category_prices: int = 20
    """...when the category has at least this many priced events in the month."""


PRICE_INPUT_COLUMNS: tuple[str, ...] = (
    "event_time",
    "event_type",
    "category_id",
    "price",
    "_defect",
    "month",
)
"""The raw columns the category medians need (row-level rules, category, price)."""


def classify_events(
    raw: DataFrame,
    rules: CleaningRules | None = None,
    prices: DataFrame | None = None,
    partitions: int | None = None,
    key: bytes | None = None,
    finish: TaskFinish | None = None,
) -> DataFrame:
    """Add ``drop_reason`` (null = kept) to raw events; columns of ``raw`` are kept as they are.

    ``raw`` has the typed export columns, ``_defect`` and the ``month`` partition column
    (``YYYY-MM``). Rules apply within each month, so a multi-month DataFrame is fine.
    ``prices`` are the same rows reduced to :data:`PRICE_INPUT_COLUMNS` (default: ``raw``):
    the category medians are a separate pass, and a narrow read of the table makes it cheap.
    ``partitions``: how many tasks apply the rules; each holds its customers' rows in a Python
    worker, so size it to the rows (default: the session's shuffle partitions). With it, the
    rows carry their customer bucket (:data:`BUCKET_COLUMN`).
    ``key``: when given, the same tasks add the pseudonymous ``user_key`` and ``session_key``
    (:data:`IDENTIFIER_TOKENS`), which :func:`clean_view` and :func:`quarantine_view` then show
    in place of the raw ids.
    ``finish``: what the same tasks then make of their classified rows, instead of returning
    them (the cleaning asset writes its tables there: :mod:`.cleaning_write`).

    This is the path for rows that are not stored by customer bucket: one shuffle by user id.
    ``clean_events`` reads bucketed raw files in the tasks themselves instead
    (:mod:`amazing_assets.lib.buckets`); both run :func:`classify_task`. The category medians,
    which every task needs, are computed when this is called (one Spark job); the
    classification runs when the result is used.
    """
    rules = rules or CleaningRules()
    narrow = (raw if prices is None else prices).select(*PRICE_INPUT_COLUMNS)
    priced = narrow.mapInArrow(whole_partition(priced_rows), from_arrow_schema(MEDIAN_INPUT_SCHEMA))
    task = classify_task(rules, category_medians(priced, rules), key, finish)
    if partitions:
        # The task's customer bucket, computed as Spark's hash partitioning computes it (and as
        # ingestion names its files): a task can name its files after it.
        bucket = F.pmod(F.hash("user_id"), F.lit(partitions)).cast("int")
        raw = raw.withColumn(BUCKET_COLUMN, bucket)
    by_customer = by_customer_column(raw, "user_id", partitions)
    schema = finish.schema if finish is not None else classified_schema(by_customer.schema, key)
    return by_customer.mapInArrow(whole_partition(task, OUTPUT_BATCH_ROWS), schema)


@dataclass(frozen=True)
class TaskFinish:
    """What the classification tasks make of their classified (and pseudonymised) rows: an
    Arrow function, and the Spark schema of what it returns."""

    apply: Callable[[pa.Table], pa.Table]
    schema: StructType


def classified_schema(raw: StructType, key: bytes | None) -> StructType:
    """The Spark schema of :func:`classify_task`'s rows for raw rows of schema ``raw``: its
    columns, ``drop_reason``, and the tokens with a ``key``."""
    task = classify_task(CleaningRules(), MEDIANS_SCHEMA.empty_table(), key, None)
    return view_schema(task, raw)


def priced_rows(rows: pa.Table) -> pa.Table:
    """The rows' prices that count for their category's median (:data:`MEDIAN_INPUT_SCHEMA`)."""
    return priced_alive(rows.append_column("drop_reason", row_level_reasons(rows)))


def category_medians(priced: DataFrame, rules: CleaningRules) -> pa.Table:
    """(month, category) → median price, for categories with enough priced events: a Spark
    aggregate over every task's prices, collected (a row per category) for the tasks."""
    medians = (
        priced.groupBy("month", "category_id")
        .agg(
            F.percentile_approx("price", 0.5, 1000).alias("_category_median"),
            F.count("*").alias("_category_prices"),
        )
        .where(F.col("_category_prices") >= rules.min_category_prices)
        .select(*MEDIANS_SCHEMA.names)
    )
    return medians.toArrow().cast(MEDIANS_SCHEMA)


def classify_task(
    rules: CleaningRules, medians: pa.Table, key: bytes | None, finish: TaskFinish | None
) -> Callable[[pa.Table], pa.Table]:
    """What one task does with its whole customers' raw rows: every rule in order (row-level,
    absurd prices, then cart bursts, duplicates and bots), then the tokens (with ``key``), then
    ``finish``."""
    tokens = None if key is None else token_appender(key, IDENTIFIER_TOKENS)

    def classify(rows: pa.Table) -> pa.Table:
        rows = rows.append_column("drop_reason", row_level_reasons(rows))
        reasons = absurd_price_reasons(rows, medians, rules.max_price, rules.absurd_price_factor)
        rows = rows.set_column(rows.schema.get_field_index("drop_reason"), "drop_reason", reasons)
        rows = classify_customer_rows(rows, rules.bot_events_per_active_day)
        if tokens is not None:
            rows = tokens(rows)
        return rows if finish is None else finish.apply(rows)

    return classify


def by_customer_column(df: DataFrame, column: str, partitions: int | None) -> DataFrame:
    """``df`` hash-partitioned by ``column`` (a customer's rows in one task), into ``partitions``
    tasks (default: the session's shuffle partitions, merged by AQE)."""
    return df.repartition(partitions, column) if partitions else df.repartition(column)


def clean_view(classified: DataFrame) -> DataFrame:
    """:func:`~amazing_assets.defs.cleaning.clean_tables.clean_rows` of a Spark DataFrame: the
    kept rows as stored in ``clean_events`` (raw ids when ``classified`` has no tokens: tests)."""
    return _arrow_view(classified, clean_rows)


def quarantine_view(classified: DataFrame) -> DataFrame:
    """:func:`~amazing_assets.defs.cleaning.clean_tables.quarantine_rows` of a Spark DataFrame:
    the dropped rows as stored in ``event_quarantine``."""
    return _arrow_view(classified, quarantine_rows)


def view_schema(rows_of: RowsOf, classified: StructType) -> StructType:
    """The Spark schema of ``rows_of``'s output for input of schema ``classified`` (the function
    run on no rows: the shape is defined once, by the Arrow code)."""
    empty = arrow_schema_for(classified).empty_table()
    return from_arrow_schema(rows_of(empty).schema)


def _arrow_view(classified: DataFrame, rows_of: RowsOf) -> DataFrame:
    schema = view_schema(rows_of, classified.schema)
    target = arrow_schema_for(schema)

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from rows_of(pa.Table.from_batches([batch])).cast(target).to_batches()

    return classified.mapInArrow(apply, schema)
