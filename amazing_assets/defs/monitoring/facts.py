"""The facts the month verdict compares, read from the warehouse.

Each fact is cheap at any size: raw rows come from raw_events' commit log (no data read), the
quarantine's reasons from its small table, and the events' days and (product, category) pairs
from one Spark aggregation over three columns of clean_events. The calendar month before the
run's first month is read too (its facts, not its events, are what a comparison needs; the
same aggregation over it is one month more, never the whole history).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from amazing_assets.defs.cleaning.customer_rules import (
    REASON_BOT_USER,
    REASON_CART_BURST,
    REASON_EXACT_DUPLICATE,
)
from amazing_assets.defs.features.features import window_months
from amazing_assets.defs.monitoring.verdict import MonthFacts, category_remap_share
from amazing_assets.lib.delta_tables import month_row_counts, scan_months, table_exists
from amazing_assets.lib.io_managers import read_spark
from amazing_assets.lib.months import add_months
from amazing_assets.lib.warehouse import WarehouseResource

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DUPLICATE_REASONS = (REASON_EXACT_DUPLICATE, REASON_CART_BURST)


def reason_counts(warehouse: WarehouseResource, months: Sequence[str]) -> pd.DataFrame:
    """Quarantined rows per (month, reason)."""
    location = warehouse.table("event_quarantine")
    if not table_exists(location):
        return pd.DataFrame({"month": [], "reason": [], "rows": []})
    table = scan_months(location, list(months)).to_table(columns=["month", "reason"])
    counts = table.group_by(["month", "reason"]).aggregate([("reason", "count")])
    return counts.rename_columns(["month", "reason", "rows"]).to_pandas()


def event_summaries(
    session: SparkSession, warehouse: WarehouseResource, present: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events per month and day, events per month, product and category) of clean_events'
    ``present`` months (months that hold events)."""
    from pyspark.sql import functions as F

    location = warehouse.table("clean_events")
    if not present:
        empty = pd.DataFrame({"month": [], "day": [], "events": []})
        return empty, pd.DataFrame({"month": [], "product_id": [], "category_id": [], "events": []})
    events = read_spark(
        session, location, list(present), ["month", "event_time", "product_id", "category_id"]
    )
    days = events.groupBy("month", F.to_date("event_time").alias("day")).agg(
        F.count(F.lit(1)).alias("events")
    )
    pairs = events.groupBy("month", "product_id", "category_id").agg(
        F.count(F.lit(1)).alias("events")
    )
    return days.toPandas(), pairs.toPandas()


def month_facts(
    session: SparkSession, warehouse: WarehouseResource, months: Sequence[str], window: int
) -> tuple[list[MonthFacts], MonthFacts | None]:
    """The facts of each run month, and of the calendar month before the first (None when the
    warehouse holds no events for it)."""
    before = add_months(min(months), -1)
    read = [before, *months]
    raw = warehouse.table("raw_events")
    raw_rows = month_row_counts(raw) if table_exists(raw) else {}
    clean = warehouse.table("clean_events")
    clean_rows = month_row_counts(clean) if table_exists(clean) else {}
    with_events = {m for m, n in clean_rows.items() if n}
    days, pairs = event_summaries(session, warehouse, [m for m in read if m in with_events])
    reasons = reason_counts(warehouse, read)

    def facts(month: str) -> MonthFacts:
        dropped = reasons[reasons["month"] == month].set_index("reason")["rows"]
        previous_pairs = pairs[pairs["month"] == add_months(month, -1)]
        return MonthFacts(
            month=month,
            raw_rows=int(raw_rows.get(month, 0)),
            events=int(clean_rows.get(month, 0)),
            days_with_events=int((days["month"] == month).sum()),
            bot_rows=int(dropped.get(REASON_BOT_USER, 0)),
            duplicate_rows=int(sum(dropped.get(r, 0) for r in DUPLICATE_REASONS)),
            # Everything else dropped: export defects, other months' rows, impossible prices.
            defect_rows=int(dropped[~dropped.index.isin(_BEHAVIOURS)].sum()),
            category_remap=category_remap_share(
                pairs[pairs["month"] == month], previous_pairs if len(previous_pairs) else None
            ),
            window_months_with_events=sum(m in with_events for m in window_months(month, window)),
            window_months=window,
        )

    return [facts(m) for m in months], (facts(before) if before in with_events else None)


_BEHAVIOURS = {REASON_BOT_USER, *DUPLICATE_REASONS}
"""Reasons counted apart: bots and tracking duplicates."""
