"""Cleaning rules for one or more months of raw events (DESIGN.md §5), as Spark transformations.

Every raw row gets exactly one outcome: kept (``drop_reason`` null) or dropped with the *first*
rule it breaks, in the order of :data:`DROP_REASONS`. Hence the accounting identity
``raw rows = kept + Σ dropped by reason`` holds by construction, and a test asserts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StringType, StructType

from amazing_assets.io.delta_source import arrow_schema_for
from amazing_assets.segmentation.clean_tables import (
    IDENTIFIER_TOKENS,
    RowsOf,
    clean_rows,
    quarantine_rows,
)
from amazing_assets.segmentation.customer_rules import (
    REASON_BOT_USER,
    REASON_CART_BURST,
    REASON_EXACT_DUPLICATE,
    classify_partition,
)
from amazing_assets.segmentation.months import month_bounds
from amazing_assets.segmentation.pseudonymize import token_appender
from amazing_assets.segmentation.schema import EVENT_TYPES

# Rule order matters: a row is charged to the first rule it breaks.
REASON_UNKNOWN_EVENT_TYPE = "unknown_event_type"
REASON_OUTSIDE_MONTH = "outside_month"
REASON_NEGATIVE_PRICE = "negative_price"
REASON_ABSURD_PRICE = "absurd_price"
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
    """Thresholds of the cleaning rules (published facts about the real data, DESIGN.md §5)."""

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
BUCKET_COLUMN = "_bucket"
"""Added by :func:`classify_events` with ``partitions``: the rows' customer bucket (the task's
partition index)."""


def classify_events(
    raw: DataFrame,
    rules: CleaningRules | None = None,
    prices: DataFrame | None = None,
    months: Sequence[str] = (),
    partitions: int | None = None,
    key: bytes | None = None,
    finish: TaskFinish | None = None,
) -> DataFrame:
    """Add ``drop_reason`` (null = kept) to raw events; columns of ``raw`` are kept as they are.

    ``raw`` has the typed export columns, ``_defect`` and the ``month`` partition column
    (``YYYY-MM``). Rules apply within each month, so a multi-month DataFrame is fine.
    ``prices`` are the same rows reduced to :data:`PRICE_INPUT_COLUMNS` (default: ``raw``):
    the category medians are a separate pass, and a narrow read of the table makes it cheap.
    ``months``: the months ``raw`` holds, when known (a faster outside-month test, same result).
    ``partitions``: how many tasks apply the per-customer rules; each holds its customers' rows in
    a Python worker, so size it to the rows (default: the session's shuffle partitions). With it,
    the rows carry their bucket (:data:`BUCKET_COLUMN`).
    ``key``: when given, the same tasks add the pseudonymous ``user_key`` and ``session_key``
    (:data:`IDENTIFIER_TOKENS`), which :func:`clean_view` and :func:`quarantine_view` then show
    in place of the raw ids.
    ``finish``: what the same tasks then make of their classified rows, instead of returning
    them (the cleaning asset writes its tables there: ``io.cleaning_write``).
    """
    rules = rules or CleaningRules()
    # The category medians read a narrow copy of the rows; they are small and broadcast back.
    narrow = _row_level_rules(raw if prices is None else prices, months)
    medians = _category_medians(narrow, rules)
    staged = _mark_absurd_prices(_row_level_rules(raw, months), medians, rules)
    # Cart bursts, exact duplicates and bots compare a customer's rows with each other: the rows
    # are shuffled once, by user id, and each task applies those rules to its whole customers in
    # Arrow code (customer_rules); a Spark window did the same work in 1.3-1.4x the time.
    if partitions:
        # The task's customer bucket, computed as Spark's hash partitioning computes it: a task
        # can name its files after it, and tell if it ever got rows of several.
        staged = staged.withColumn(BUCKET_COLUMN, F.pmod(F.hash("user_id"), F.lit(partitions)))
    by_customer = by_customer_column(staged, "user_id", partitions)
    steps: list[Callable[[pa.Table], pa.Table]] = []
    schema = staged.schema
    if key is not None:
        steps.append(token_appender(key, IDENTIFIER_TOKENS))
        for token in IDENTIFIER_TOKENS.values():
            schema = schema.add(token, StringType())
    if finish is not None:
        steps.append(finish.apply)
        schema = finish.schema
    then = _chained(steps) if steps else None
    return by_customer.mapInArrow(classify_partition(rules.bot_events_per_active_day, then), schema)


@dataclass(frozen=True)
class TaskFinish:
    """What the classification tasks make of their classified (and pseudonymised) rows: an
    Arrow function, and the Spark schema of what it returns."""

    apply: Callable[[pa.Table], pa.Table]
    schema: StructType


def _chained(steps: list[Callable[[pa.Table], pa.Table]]) -> Callable[[pa.Table], pa.Table]:
    def apply(table: pa.Table) -> pa.Table:
        for step in steps:
            table = step(table)
        return table

    return apply


def by_customer_column(df: DataFrame, column: str, partitions: int | None) -> DataFrame:
    """``df`` hash-partitioned by ``column`` (a customer's rows in one task), into ``partitions``
    tasks (default: the session's shuffle partitions, merged by AQE)."""
    return df.repartition(partitions, column) if partitions else df.repartition(column)


def dated_outside_month(months: Sequence[str] = ()) -> Column:
    """Whether ``event_time`` lies outside the row's ``month`` (null when either is null).

    Rows of the listed months compare their time with the month's bounds (two comparisons of
    64-bit instants); other rows format their time as ``YYYY-MM`` (the general form, which was
    6 % of the cleaning's CPU at 10 M events). Both give the same answer in a UTC session.
    """
    general = F.date_format("event_time", "yyyy-MM") != F.col("month")
    test = None
    for month in months:
        start, after = month_bounds(month)
        outside = (F.col("event_time") < F.lit(start)) | (F.col("event_time") >= F.lit(after))
        branch = F.col("month") == month
        test = F.when(branch, outside) if test is None else test.when(branch, outside)
    return general if test is None else test.otherwise(general)


def _row_level_rules(raw: DataFrame, months: Sequence[str] = ()) -> DataFrame:
    """``drop_reason`` from the rules that look at one row only (ingestion defect first)."""
    reason = F.col("_defect")
    reason = _first(reason, ~F.col("event_type").isin(*EVENT_TYPES), REASON_UNKNOWN_EVENT_TYPE)
    reason = _first(reason, dated_outside_month(months), REASON_OUTSIDE_MONTH)
    reason = _first(reason, F.col("price") < 0, REASON_NEGATIVE_PRICE)
    return raw.withColumn("drop_reason", reason)


def _first(reason: Column, broken: Column, code: str) -> Column:
    """Charge ``code`` to rows not yet charged that break the rule (null-safe)."""
    return F.when(reason.isNull() & F.coalesce(broken, F.lit(False)), F.lit(code)).otherwise(reason)


def _category_medians(narrow: DataFrame, rules: CleaningRules) -> DataFrame:
    """(month, category) → median price, for categories with enough priced events."""
    alive = narrow.where(F.col("drop_reason").isNull() & (F.col("price") > 0))
    return (
        alive.groupBy("month", "category_id")
        .agg(
            F.percentile_approx("price", 0.5, 1000).alias("_category_median"),
            F.count("*").alias("_category_prices"),
        )
        .where(F.col("_category_prices") >= rules.min_category_prices)
        .drop("_category_prices")
    )


def _mark_absurd_prices(staged: DataFrame, medians: DataFrame, rules: CleaningRules) -> DataFrame:
    staged = staged.join(F.broadcast(medians), on=["month", "category_id"], how="left")
    absurd = (F.col("price") > rules.max_price) | (
        F.col("price") > F.col("_category_median") * rules.absurd_price_factor
    )
    return staged.withColumn(
        "drop_reason", _first(F.col("drop_reason"), absurd, REASON_ABSURD_PRICE)
    ).drop("_category_median")


def clean_view(classified: DataFrame) -> DataFrame:
    """:func:`~amazing_assets.segmentation.clean_tables.clean_rows` of a Spark DataFrame: the
    kept rows as stored in ``clean_events`` (raw ids when ``classified`` has no tokens: tests)."""
    return _arrow_view(classified, clean_rows)


def quarantine_view(classified: DataFrame) -> DataFrame:
    """:func:`~amazing_assets.segmentation.clean_tables.quarantine_rows` of a Spark DataFrame:
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
