"""Business KPIs of one month's activity: customers, purchasers, revenue, orders, basket size.

Computed from the month's clean events, not from the trailing-window features: a KPI's change
from one month to the next must compare two disjoint months. An order is a session with at
least one purchase, exactly as ``frequency`` counts orders in the per-user features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the app imports KPI_COLUMNS without Spark
    from pyspark.sql import DataFrame

KPI_COLUMNS: tuple[str, ...] = (
    "customers",
    "purchasers",
    "revenue",
    "orders",
    "avg_order_value",
    "events",
)


def monthly_kpis(events: DataFrame) -> DataFrame:
    """One row per ``month`` with :data:`KPI_COLUMNS` (a tiny result: safe to collect)."""
    from pyspark.sql import functions as F

    purchase = F.col("event_type") == "purchase"
    totals = events.groupBy("month").agg(
        F.countDistinct("user_key").alias("customers"),
        F.countDistinct(F.when(purchase, F.col("user_key"))).alias("purchasers"),
        F.coalesce(F.sum(F.when(purchase, F.col("price"))), F.lit(0.0)).alias("revenue"),
        F.countDistinct(F.when(purchase, F.col("session_key"))).alias("orders"),
        F.count(F.lit(1)).alias("events"),
    )
    return totals.select(
        "month",
        F.col("customers").cast("long"),
        F.col("purchasers").cast("long"),
        F.round("revenue", 2).alias("revenue"),
        F.col("orders").cast("long"),
        F.round(
            F.when(F.col("orders") > 0, F.col("revenue") / F.col("orders")).otherwise(0.0), 2
        ).alias("avg_order_value"),
        F.col("events").cast("long"),
    )
