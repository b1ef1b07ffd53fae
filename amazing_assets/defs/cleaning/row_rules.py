"""The cleaning rules that look at one row (and its category's median price), in Arrow.

They run in the same Spark tasks as the per-customer rules (``customer_rules``): the rows of a
month are read, classified, pseudonymised and written without ever becoming JVM rows. Spark
computes what no task can alone, the category medians, from the prices the tasks emit.

Semantics are Spark SQL's, which the rules were first written in: a comparison with a null is
no breach; NaN is larger than every number (so a NaN price is absurd, and counts as priced).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.lib.months import month_bounds
from amazing_assets.lib.schema import EVENT_TYPES

REASON_UNKNOWN_EVENT_TYPE = "unknown_event_type"
REASON_OUTSIDE_MONTH = "outside_month"
REASON_NEGATIVE_PRICE = "negative_price"
REASON_ABSURD_PRICE = "absurd_price"

MEDIAN_INPUT_SCHEMA = pa.schema(
    [
        pa.field("month", pa.string()),
        pa.field("category_id", pa.int64()),
        pa.field("price", pa.float64()),
    ]
)
"""The prices the category medians are taken over: alive rows with a positive price."""
MEDIANS_SCHEMA = pa.schema(
    [
        pa.field("month", pa.string()),
        pa.field("category_id", pa.int64()),
        pa.field("_category_median", pa.float64()),
    ]
)


def row_level_reasons(rows: pa.Table) -> pa.ChunkedArray:
    """``drop_reason`` from the ingestion defect, then the rules that look at one row only:
    an event type outside the four, a time outside the row's month, a negative price."""
    reason = rows["_defect"]
    unknown_type = pc.invert(pc.is_in(rows["event_type"], pa.array(EVENT_TYPES)))
    unknown_type = pc.if_else(
        pc.is_null(rows["event_type"]), pa.scalar(None, pa.bool_()), unknown_type
    )
    reason = charge_first(reason, unknown_type, REASON_UNKNOWN_EVENT_TYPE)
    reason = charge_first(reason, outside_month(rows), REASON_OUTSIDE_MONTH)
    return charge_first(reason, pc.less(rows["price"], 0.0), REASON_NEGATIVE_PRICE)


def charge_first(reason: pa.ChunkedArray, broken: pa.ChunkedArray, code: str) -> pa.ChunkedArray:
    """Charge ``code`` to rows not yet charged that break the rule (an unknown breach: no)."""
    newly = pc.and_(pc.is_null(reason), pc.fill_null(broken, False))
    return pc.if_else(newly, pa.scalar(code, pa.string()), reason)


def outside_month(rows: pa.Table) -> pa.ChunkedArray:
    """Whether ``event_time`` lies outside the row's ``month`` (null when either is null): two
    comparisons of 64-bit instants with the bounds of each month present."""
    time, month = rows["event_time"], rows["month"]
    outside = pa.nulls(len(rows), pa.bool_())
    for value in pc.unique(month).drop_null().to_pylist():
        start, after = month_bounds(value)
        here = pc.equal(month, value)
        breach = pc.or_(
            pc.less(time, pa.scalar(start, time.type)),
            pc.greater_equal(time, pa.scalar(after, time.type)),
        )
        outside = pc.if_else(here, breach, outside)
    return outside


def priced_alive(rows: pa.Table) -> pa.Table:
    """:data:`MEDIAN_INPUT_SCHEMA` rows of ``rows`` (with ``drop_reason`` from
    :func:`row_level_reasons`) that count for their category's median."""
    price = rows["price"]
    positive = pc.or_(pc.fill_null(pc.greater(price, 0.0), False), _is_nan(price))
    kept = rows.filter(pc.and_(pc.is_null(rows["drop_reason"]), positive))
    return kept.select(MEDIAN_INPUT_SCHEMA.names).cast(MEDIAN_INPUT_SCHEMA)


def absurd_price_reasons(
    rows: pa.Table, medians: pa.Table, max_price: float, factor: float
) -> pa.ChunkedArray:
    """``drop_reason`` with absurd prices charged: above ``max_price``, or above ``factor`` times
    the median of the row's (month, category) when it has one (:data:`MEDIANS_SCHEMA`)."""
    keys = pa.table({"month": rows["month"], "category_id": rows["category_id"]})
    keys = keys.append_column("_row", pa.array(range(len(rows)), pa.int64()))
    joined = keys.join(medians, ["month", "category_id"], join_type="left outer")
    median = joined.sort_by("_row")["_category_median"]
    price = rows["price"]
    absurd = pc.or_(
        pc.or_(pc.fill_null(pc.greater(price, max_price), False), _is_nan(price)),
        pc.fill_null(pc.greater(price, pc.multiply(median, factor)), False),
    )
    return charge_first(rows["drop_reason"], absurd, REASON_ABSURD_PRICE)


def _is_nan(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.fill_null(pc.is_nan(values), False)
