"""Per-user behavioural features (RFM and more) as of each month's end, as Spark transformations.

A month's features look at a trailing window of months (default 3: the month and the two before),
so a customer who bought last month is still a recent buyer this month. One pass serves any number
of as-of months: each event is fanned out to the as-of months whose window contains it.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from amazing_assets.defs.cleaning.classification import by_customer_column
from amazing_assets.defs.features.user_aggregates import (
    AGGREGATE_SCHEMA,
    DAYPARTS,
    FIRST_SEEN_SCHEMA,
    WindowPlan,
    aggregate_partition,
    first_seen,
)
from amazing_assets.lib.arrow_groups import whole_partition
from amazing_assets.lib.months import add_months, month_start

SECONDS_PER_DAY = 86_400.0

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "days_since_last_purchase",
    "frequency",
    "monetary",
    "avg_order_value",
    "n_events",
    "n_views",
    "n_carts",
    "n_removes",
    "n_purchases",
    "n_sessions",
    "events_per_session",
    "view_to_cart_rate",
    "cart_to_purchase_rate",
    "n_categories",
    "n_brands",
    "share_night",
    "share_morning",
    "share_afternoon",
    "share_evening",
    "share_weekend",
    "active_days",
    "tenure_days",
)
"""Numeric feature columns, in table order (after ``user_key``)."""


def window_months(as_of: str, window: int) -> list[str]:
    """The months whose events count for ``as_of``: ``window`` months ending with it."""
    return [add_months(as_of, -k) for k in range(window - 1, -1, -1)]


def window_gaps(
    as_of: str, window: int, months_with_events: set[str], months_with_exports: set[str]
) -> list[str]:
    """Months of ``as_of``'s window without clean events although they should have some.

    A month should have events when an export for it landed (it was rejected, or is not ingested
    yet) or when it lies inside the history, after the earliest month with events. Window months
    before the history begins are not gaps: the data starts there. Features computed over a
    window with gaps are partial.
    """
    first = min(months_with_events, default=as_of)
    return [
        m
        for m in window_months(as_of, window)
        if m not in months_with_events and (m >= first or m in months_with_exports)
    ]


def window_length_days(as_of: str, window: int) -> int:
    first = month_start(window_months(as_of, window)[0])
    return (month_start(add_months(as_of, 1)) - first).days


EVENT_INPUT_COLUMNS: tuple[str, ...] = (
    "event_time",
    "event_type",
    "product_id",
    "brand",
    "price",
    "user_key",
    "session_key",
    "month",
)
"""The clean_events columns :func:`compute_user_features` reads from ``events``."""
PRODUCT_INPUT_COLUMNS: tuple[str, ...] = ("product_id", "category_id", "event_time")
"""The clean_events columns the first-seen category of each product needs."""


def compute_user_features(
    events: DataFrame,
    as_of_months: list[str],
    window: int = 3,
    products: DataFrame | None = None,
    partitions: int | None = None,
) -> DataFrame:
    """One row per (``month`` = as-of month, ``user_key``) with :data:`FEATURE_COLUMNS`.

    ``events`` are clean events (``user_key``, ``session_key``, ``month``...) covering at least the
    trailing windows of ``as_of_months``. ``products`` are the same events reduced to
    :data:`PRODUCT_INPUT_COLUMNS` (default: ``events``); a separate narrow read of them is
    cheaper than a second pass over every column.
    ``partitions``: how many tasks aggregate the customers; each holds its share of the events
    in a Python worker, so size it to the rows read (default: the session's shuffle partitions).

    The events are shuffled by customer here. ``user_features_rfm`` reads the stored table
    bucket by bucket instead (:mod:`amazing_assets.lib.buckets`); both run the same Arrow code
    and formulas.
    """
    plan = window_plan(
        as_of_months,
        window,
        first_seen_categories(partial_first_seen(events if products is None else products)),
    )
    per_task = by_customer_column(events.select(*EVENT_INPUT_COLUMNS), "user_key", partitions)
    aggregates = per_task.mapInArrow(aggregate_partition(plan), from_arrow_schema(AGGREGATE_SCHEMA))
    return features_from_aggregates(aggregates, as_of_months, window)


def window_plan(as_of_months: list[str], window: int, categories: pa.Table) -> WindowPlan:
    """Which as-of months each event month counts for, with each product's first-seen category
    (:func:`first_seen_categories`)."""
    if window < 1:
        raise ValueError(f"the feature window must be at least 1 month, got {window}")
    contributes_to = {
        m: [a for a in as_of_months if m in window_months(a, window)]
        for a in as_of_months
        for m in window_months(a, window)
    }
    return WindowPlan(contributes_to, categories)


def partial_first_seen(products: DataFrame) -> DataFrame:
    """:func:`~amazing_assets.defs.features.user_aggregates.first_seen` of each partition of
    ``products`` (any partitioning)."""
    columns = products.select(*PRODUCT_INPUT_COLUMNS)
    return columns.mapInArrow(whole_partition(first_seen), from_arrow_schema(FIRST_SEEN_SCHEMA))


def first_seen_categories(partials: DataFrame) -> pa.Table:
    """product → the category it had when first seen (REES46 remapped category ids in Dec 2019),
    from per-task :data:`FIRST_SEEN_SCHEMA` rows: the earliest across tasks (ties: the smallest
    category), collected as an Arrow table (a row per product) for the aggregation tasks."""
    earliest = partials.groupBy("product_id").agg(
        F.min(F.struct("event_time", "category_id")).alias("_first")
    )
    return earliest.select("product_id", F.col("_first.category_id").alias("_category")).toArrow()


def features_from_aggregates(grouped: DataFrame, as_of_months: list[str], window: int) -> DataFrame:
    """The feature formulas over :data:`AGGREGATE_SCHEMA` rows."""
    # Exclusive end of the as-of month, and the window's length in days (the "never" value).
    as_of_end = F.to_timestamp(F.concat(F.col("as_of"), F.lit("-01"))) + F.expr("INTERVAL 1 MONTH")
    window_days = F.create_map(
        *[x for a in as_of_months for x in (F.lit(a), F.lit(float(window_length_days(a, window))))]
    )[F.col("as_of")]
    n_events = F.col("n_events").cast("double")
    return grouped.select(
        F.col("as_of").alias("month"),
        "user_key",
        _days_between(F.col("_last_event"), as_of_end).alias("recency_days"),
        F.coalesce(_days_between(F.col("_last_purchase"), as_of_end), window_days).alias(
            "days_since_last_purchase"
        ),
        F.col("frequency").cast("long").alias("frequency"),
        F.round("monetary", 2).alias("monetary"),
        F.round(_ratio("monetary", "frequency"), 2).alias("avg_order_value"),
        "n_events",
        "n_views",
        "n_carts",
        "n_removes",
        "n_purchases",
        F.col("n_sessions").cast("long").alias("n_sessions"),
        _ratio("n_events", "n_sessions").alias("events_per_session"),
        F.least(_ratio("n_carts", "n_views"), F.lit(1.0)).alias("view_to_cart_rate"),
        F.least(_ratio("n_purchases", "n_carts"), F.lit(1.0)).alias("cart_to_purchase_rate"),
        F.col("n_categories").cast("long").alias("n_categories"),
        F.col("n_brands").cast("long").alias("n_brands"),
        *[(F.col(f"_daypart_{name}") / n_events).alias(f"share_{name}") for name in DAYPARTS],
        (F.col("_weekend") / n_events).alias("share_weekend"),
        F.col("active_days").cast("long").alias("active_days"),
        _days_between(F.col("_first_event"), as_of_end).alias("tenure_days"),
    )


def _days_between(start, end):
    return (F.unix_timestamp(end) - F.unix_timestamp(start)) / F.lit(SECONDS_PER_DAY)


def _ratio(numerator: str, denominator: str):
    """numerator / denominator as double, 0 when the denominator is 0."""
    return F.when(F.col(denominator) > 0, F.col(numerator) / F.col(denominator)).otherwise(
        F.lit(0.0)
    )
