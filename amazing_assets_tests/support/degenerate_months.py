"""Per-user feature tables of degenerate months, built without Spark, as the pipeline builds them.

Each customer gets event counts (views, carts, purchases), prices and days; the features are
then derived with the per-user table's own formulas (rates capped at 1 and 0 over 0, average
order value 0 without orders, days since the last purchase = the window's length without one),
so the modelling stage sees what it would see after the real ETL of such a month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOW_DAYS = 92  # a three-month window ending on 2019-12-31


@dataclass(frozen=True)
class Degenerate:
    """Which pathologies a generated month has (any combination)."""

    customers: int
    seed: int = 0
    no_buyers: bool = False  # a purchase-tag outage: views and carts only
    no_carts: bool = False
    only_views: bool = False  # one behaviour only
    only_purchases: bool = False  # one behaviour only (a buyers-only extract)
    zero_prices: bool = False
    one_day: bool = False  # every event on the same day
    one_product: bool = False
    identical: bool = False  # every customer the same

    def label(self) -> str:
        flags = [k for k, v in self.__dict__.items() if v is True]
        return f"{self.customers} customers, seed {self.seed}: " + (", ".join(flags) or "normal")


def features_of(case: Degenerate) -> pd.DataFrame:
    """The month's per-user table (one row per customer, the columns the pipeline writes)."""
    rng = np.random.default_rng(case.seed)
    n = case.customers
    views = rng.negative_binomial(2, 0.15, n)
    carts = rng.binomial(views + 1, 0.15)
    orders = rng.binomial(carts + 1, 0.25) * (rng.random(n) < 0.35)
    no_buyers = case.no_buyers or case.only_views
    if case.no_carts or case.only_views or case.only_purchases:
        carts = np.zeros(n, dtype=np.int64)
    if case.only_purchases and not no_buyers:
        views = np.zeros(n, dtype=np.int64)
        orders = np.maximum(orders, 1)
    if no_buyers:  # wins over only_purchases: such a month has views (nothing else is left)
        orders = np.zeros(n, dtype=np.int64)
        views = np.maximum(views, 1) if case.only_views or case.only_purchases else views
    purchases = orders + rng.binomial(orders, 0.3)
    price = np.zeros(n) if case.zero_prices else np.round(rng.lognormal(4, 1, n), 2)
    monetary = np.round(purchases * price, 2)
    last_day = rng.integers(0, WINDOW_DAYS, n).astype(float)
    first_day = np.maximum(last_day - rng.integers(0, 40, n), 0)
    if case.one_day:
        last_day = first_day = np.full(n, 10.0)
    sessions = np.maximum(1, rng.binomial(views + carts + purchases, 0.3))
    events = views + carts + purchases
    frame = pd.DataFrame(
        {
            "user_key": [f"u{case.seed}-{i}" for i in range(n)],
            "recency_days": WINDOW_DAYS - last_day,
            "days_since_last_purchase": np.where(orders > 0, WINDOW_DAYS - last_day, WINDOW_DAYS),
            "frequency": orders.astype(np.int64),
            "monetary": monetary,
            "avg_order_value": np.where(
                orders > 0, np.round(monetary / np.maximum(orders, 1), 2), 0
            ),
            "n_views": views.astype(np.int64),
            "n_carts": carts.astype(np.int64),
            "n_purchases": purchases.astype(np.int64),
            "n_sessions": sessions.astype(np.int64),
            "events_per_session": events / sessions,
            "view_to_cart_rate": np.minimum(
                np.where(views > 0, carts / np.maximum(views, 1), 0), 1
            ),
            "cart_to_purchase_rate": np.minimum(
                np.where(carts > 0, purchases / np.maximum(carts, 1), 0), 1
            ),
            "n_categories": np.ones(n, np.int64) if case.one_product else rng.integers(1, 6, n),
            "n_brands": np.ones(n, np.int64) if case.one_product else rng.integers(1, 4, n),
            "share_morning": rng.random(n) * 0.5,
            "share_afternoon": rng.random(n) * 0.3,
            "share_evening": rng.random(n) * 0.2,
            "share_night": np.zeros(n),
            "share_weekend": rng.random(n),
            "active_days": np.maximum(1, (last_day - first_day + 1) // 3).astype(np.int64),
            "tenure_days": WINDOW_DAYS - first_day,
        }
    )
    if case.identical and n:
        frame = pd.concat([frame.iloc[[0]]] * n, ignore_index=True)
        frame["user_key"] = [f"u{case.seed}-{i}" for i in range(n)]
    return frame


def purchase_days_of(features: pd.DataFrame, month: str = "2019-12") -> pd.DataFrame:
    """The buyers' purchase days, as ``customer_value`` reduces clean events (one row per buyer
    and priced purchase day: ``user_key``, ``day``, ``value``; free purchases are dropped, as
    ``purchase_days_spark`` drops them)."""
    from amazing_assets.defs.value.models import last_day

    end = last_day(month)
    buyers = features[(features["frequency"] > 0) & (features["monetary"] > 0)]
    rows = []
    for row in buyers.itertuples():
        days = min(int(row.frequency), 5)
        for j in range(days):
            rows.append(
                {
                    "user_key": row.user_key,
                    "day": end - int(row.recency_days) - 7 * j,
                    "value": float(row.monetary) / days,
                }
            )
    return pd.DataFrame(rows, columns=["user_key", "day", "value"])
