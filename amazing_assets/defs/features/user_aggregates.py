"""Per-(customer, as-of month) aggregates of clean events, in vectorised Arrow code.

:func:`compute_user_features` hash-partitions the events by customer, so every customer's events
of the run sit in one Spark task; each task hands its whole partition to :func:`user_aggregates`.

Why not Spark's own ``groupBy().agg()``: five of the features are distinct counts (sessions,
ordering sessions, categories, brands, active days). Spark computes them with ``collect_set``, an
object aggregate that falls back to sorting every row by the 32-character customer key; at 10 M
events that aggregation took 40–48 s of the 2 cores. Here each distinct count is two integer
group-bys (the distinct (group, value) pairs, then pairs per group) on dictionary codes, and the
whole partition's aggregation is a few seconds (``benchmarks/results/etl-scaling.md``).

Semantics are Spark's aggregate functions: counts count rows, nulls take no part in a distinct
count, a maximum over no value is null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.lib.arrow_groups import (
    combined_codes,
    distinct_per_group,
    whole_partition,
)
from amazing_assets.lib.schema import UNKNOWN

DAYPARTS: dict[str, tuple[int, int]] = {
    "night": (0, 6),
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 24),
}
"""Time-of-day buckets (UTC hours): [start, end)."""

INPUT_SCHEMA = pa.schema(
    [
        pa.field("user_key", pa.string()),
        pa.field("as_of", pa.string()),
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("event_type", pa.string()),
        pa.field("session_key", pa.string()),
        pa.field("brand", pa.string()),
        pa.field("price", pa.float64()),
        pa.field("_category", pa.int64()),
    ]
)
"""What :func:`user_aggregates` reads: clean events, fanned out to the as-of months they count
for, with each product's first-seen category."""
INPUT_COLUMNS: tuple[str, ...] = tuple(INPUT_SCHEMA.names)

COUNT_COLUMNS: tuple[str, ...] = (
    "n_events",
    "n_views",
    "n_carts",
    "n_removes",
    "n_purchases",
    "n_sessions",
    "frequency",
    "n_categories",
    "n_brands",
    "active_days",
    "_weekend",
    *(f"_daypart_{name}" for name in DAYPARTS),
)
AGGREGATE_SCHEMA = pa.schema(
    [
        pa.field("user_key", pa.string()),
        pa.field("as_of", pa.string()),
        *(pa.field(name, pa.int64(), nullable=False) for name in COUNT_COLUMNS),
        pa.field("monetary", pa.float64(), nullable=False),
        pa.field("_last_event", pa.timestamp("us", tz="UTC")),
        pa.field("_first_event", pa.timestamp("us", tz="UTC")),
        pa.field("_last_purchase", pa.timestamp("us", tz="UTC")),
    ]
)
"""One row per (customer, as-of month) present in the input."""


def user_aggregates(events: pa.Table) -> pa.Table:
    """The per-(``user_key``, ``as_of``) aggregates the features are derived from.

    ``events`` must hold every event of each customer it holds (one partition by customer).
    """
    if events.num_rows == 0:
        return AGGREGATE_SCHEMA.empty_table()
    column = {name: events[name].combine_chunks() for name in INPUT_COLUMNS}
    # One integer per (customer, as-of month): every group-by below is on integers.
    group, (user_labels, month_labels) = combined_codes(column["user_key"], column["as_of"])
    space = len(user_labels) * len(month_labels)
    time, kind = column["event_time"], column["event_type"]
    is_purchase = _flag(pc.equal(kind, "purchase"))
    hour = pc.hour(time)
    sums: dict[str, pa.Array] = {
        "view": _count(pc.equal(kind, "view")),
        "cart": _count(pc.equal(kind, "cart")),
        "remove": _count(pc.equal(kind, "remove_from_cart")),
        "purchase": _count(is_purchase),
        "weekend": _count(pc.greater_equal(pc.day_of_week(time), 5)),  # Monday = 0
        **{
            name: _count(pc.and_(pc.greater_equal(hour, start), pc.less(hour, end)))
            for name, (start, end) in DAYPARTS.items()
        },
        "spend": pc.if_else(
            _flag(pc.and_kleene(is_purchase, pc.greater(column["price"], 0))),
            column["price"],
            0.0,
        ),
    }
    totals = (
        pa.table({"group": group, **sums, "time": time})
        .append_column("purchase_time", pc.if_else(is_purchase, time, pa.scalar(None, time.type)))
        .group_by("group", use_threads=False)
        .aggregate(
            [
                ([], "count_all"),
                *[(name, "sum") for name in sums],
                ("time", "max"),
                ("time", "min"),
                ("purchase_time", "max"),
            ]
        )
    )
    groups = totals["group"].to_numpy()
    sessions = _codes(column["session_key"])
    brands = column["brand"]
    chosen_brands = pc.if_else(
        _flag(pc.not_equal(brands, UNKNOWN)), brands, pa.scalar(None, brands.type)
    )
    distinct = {
        "n_sessions": sessions,
        "frequency": pc.if_else(is_purchase, sessions, pa.scalar(None, sessions.type)),
        "n_categories": column["_category"],
        "n_brands": _codes(chosen_brands),
        "active_days": pc.cast(time, pa.date32()),
    }
    output: dict[str, pa.Array] = {
        "user_key": user_labels.take(pa.array(groups // len(month_labels))),
        "as_of": month_labels.take(pa.array(groups % len(month_labels))),
        "n_events": totals["count_all"],
        "n_views": totals["view_sum"],
        "n_carts": totals["cart_sum"],
        "n_removes": totals["remove_sum"],
        "n_purchases": totals["purchase_sum"],
        **{
            name: pa.array(distinct_per_group(group, values, space)[groups])
            for name, values in distinct.items()
        },
        "_weekend": totals["weekend_sum"],
        **{f"_daypart_{name}": totals[f"{name}_sum"] for name in DAYPARTS},
        "monetary": totals["spend_sum"],
        "_last_event": totals["time_max"],
        "_first_event": totals["time_min"],
        "_last_purchase": totals["purchase_time_max"],
    }
    return pa.table(output).cast(AGGREGATE_SCHEMA)


@dataclass(frozen=True)
class WindowPlan:
    """What turns a task's clean events into :data:`INPUT_COLUMNS` rows."""

    contributes_to: dict[str, list[str]]
    """Event month → the as-of months whose window holds it (an event counts once for each)."""
    categories: pa.Table
    """``product_id`` → ``_category``: each product's first-seen category (a global fact,
    computed by Spark over every customer and shipped to the tasks)."""


def windowed_events(events: pa.Table, plan: WindowPlan) -> pa.Table:
    """Clean events (``month``, ``product_id`` and the event columns) → one row per (event,
    as-of month it counts for) with its product's first-seen category; events of other months
    are left out."""
    parts = []
    for month, targets in plan.contributes_to.items():
        rows = events.filter(pc.equal(events["month"], month))
        for as_of in targets if rows.num_rows else ():
            parts.append(rows.append_column("as_of", pa.repeat(pa.scalar(as_of), rows.num_rows)))
    if not parts:
        return INPUT_SCHEMA.empty_table()
    fanned = pa.concat_tables(parts)
    position = pc.index_in(
        fanned["product_id"], value_set=plan.categories["product_id"], skip_nulls=True
    )
    category = plan.categories["_category"].take(position)
    return fanned.append_column("_category", category).select(list(INPUT_COLUMNS))


def aggregate_partition(
    plan: WindowPlan,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``DataFrame.mapInArrow`` body: one Spark partition of clean events (whole customers)
    → their aggregates."""
    return whole_partition(customer_aggregates(plan))


def customer_aggregates(plan: WindowPlan) -> Callable[[pa.Table], pa.Table]:
    """Whole customers' clean events → their :data:`AGGREGATE_SCHEMA` rows (fanned out to the
    as-of months, with first-seen categories): what one task computes."""
    return lambda events: user_aggregates(windowed_events(events, plan))


FIRST_SEEN_SCHEMA = pa.schema(
    [
        pa.field("product_id", pa.int64()),
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("category_id", pa.int64()),
    ]
)
"""Per product: the earliest event of some rows, and the category it carried."""


def first_seen(events: pa.Table) -> pa.Table:
    """For each product of ``events`` (``product_id``, ``category_id``, ``event_time``), its
    earliest event and category (ties: the smallest category, a null first): the per-task part
    of "the category a product had when first seen", which Spark finishes across tasks."""
    timed = events.filter(pc.is_valid(events["event_time"]))
    order = pc.sort_indices(
        timed,
        sort_keys=[
            ("product_id", "ascending", "at_start"),
            ("event_time", "ascending", "at_start"),
            ("category_id", "ascending", "at_start"),
        ],
    )
    ordered = timed.take(order).select(FIRST_SEEN_SCHEMA.names)
    keep_nulls = pc.ScalarAggregateOptions(skip_nulls=False)
    first = ordered.group_by("product_id", use_threads=False).aggregate(
        [("event_time", "first", keep_nulls), ("category_id", "first", keep_nulls)]
    )
    return first.rename_columns(FIRST_SEEN_SCHEMA.names).cast(FIRST_SEEN_SCHEMA)


CUSTOMERS_SCHEMA = pa.schema(
    [pa.field("as_of", pa.string()), pa.field("customers", pa.int64(), nullable=False)]
)


def customers_per_as_of(contributes_to: dict[str, list[str]]) -> Callable[[pa.Table], pa.Table]:
    """``user_key``, ``month`` rows (whole customers) → distinct customers whose events fall in
    each as-of month's window: the features check's count, summed over tasks."""

    def count(events: pa.Table) -> pa.Table:
        parts = [
            pa.table(
                {
                    "as_of": pa.repeat(pa.scalar(as_of), len(keys)),
                    "user_key": keys,
                }
            )
            for month, targets in contributes_to.items()
            if len(keys := pc.unique(events.filter(pc.equal(events["month"], month))["user_key"]))
            for as_of in targets
        ]
        if not parts:
            return CUSTOMERS_SCHEMA.empty_table()
        pairs = pa.concat_tables(parts).group_by(["as_of", "user_key"], use_threads=False)
        distinct = pairs.aggregate([]).filter(pc.is_valid(pc.field("user_key")))
        counted = distinct.group_by("as_of", use_threads=False).aggregate([([], "count_all")])
        return counted.rename_columns(CUSTOMERS_SCHEMA.names).cast(CUSTOMERS_SCHEMA)

    return count


def _codes(values: pa.Array) -> pa.Array:
    """Integer codes of ``values`` (nulls stay null): cheaper to group by than strings."""
    return pc.dictionary_encode(values).indices


def _flag(condition: pa.Array) -> pa.Array:
    """A condition with null (an unknown value) read as false, as Spark's ``when`` does."""
    return pc.fill_null(condition, False)


def _count(condition: pa.Array) -> pa.Array:
    return pc.cast(_flag(condition), pa.int64())
