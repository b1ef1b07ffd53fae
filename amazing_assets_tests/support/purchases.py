"""Purchase histories with planted habits, for back-testing customer-value models.

A third generator, independent of the two others on purpose: they draw one feature window of
browsing and buying, while a value model has to be judged on what customers do *after* the
months it was fitted on. Here each customer has a habit (a purchase rate while active, a monthly
hazard of leaving, a basket size), jittered per customer, and keeps buying until they leave.

The process is not the one BG/NBD assumes (a coin flip after each purchase): lifetimes are
exponential in calendar time, as in Pareto/NBD, and habits form a mixture rather than one gamma
and one beta population. A model that ranks and calibrates well here has learnt the behaviour,
not its own generative story.

Ground truth: every customer carries its habit and the instant it left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.lib.months import add_months, month_start

DAY = 86_400
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class Habit:
    """How one kind of buyer buys: orders per month while active, monthly churn, mean basket."""

    name: str
    orders_per_month: float
    monthly_churn: float
    basket: float


HABITS: dict[str, Habit] = {
    h.name: h
    for h in (
        Habit("loyal_frequent", 2.0, 0.03, 60.0),
        Habit("regular", 0.7, 0.08, 45.0),
        Habit("big_basket", 0.5, 0.08, 450.0),
        Habit("bargain_repeater", 1.5, 0.15, 12.0),
        Habit("one_and_done", 0.25, 0.7, 35.0),
    )
}
DEFAULT_MIX = {
    "loyal_frequent": 0.1,
    "regular": 0.25,
    "big_basket": 0.05,
    "bargain_repeater": 0.1,
    "one_and_done": 0.5,
}


@dataclass(frozen=True)
class PurchaseHistory:
    """Every purchase (customer, epoch second, value) and the per-customer truth."""

    transactions: pd.DataFrame  # customer, time (datetime64[s, UTC]), value
    truth: pd.DataFrame  # customer, habit, first_purchase, left_at (datetime64), rate, basket


def simulate_purchases(
    customers: int,
    first_month: str,
    months: int,
    *,
    seed: int = 0,
    mix: dict[str, float] | None = None,
    noise: float = 0.4,
) -> PurchaseHistory:
    """``customers`` buyers arriving uniformly over ``months`` months from ``first_month``.

    Each customer's first purchase is their arrival; later purchases follow a Poisson process at
    their (jittered) rate until they leave (exponential lifetime from arrival) or the history
    ends. Order values are gamma-distributed around the customer's basket (CV 0.5).
    """
    mix = mix or DEFAULT_MIX
    rng = np.random.default_rng(seed)
    habits = [HABITS[name] for name in mix]
    shares = np.array([mix[h.name] for h in habits], dtype=float)
    code = rng.choice(len(habits), size=customers, p=shares / shares.sum())
    start = _epoch(first_month)
    end = _epoch(add_months(first_month, months))
    rate = np.array([h.orders_per_month for h in habits])[code] / DAYS_PER_MONTH / DAY
    rate = rate * np.exp(rng.normal(0, noise, customers))
    hazard = np.array([h.monthly_churn for h in habits])[code] / DAYS_PER_MONTH / DAY
    basket = np.array([h.basket for h in habits])[code] * np.exp(rng.normal(0, noise, customers))

    arrival = rng.integers(start, end, customers)
    left = arrival + rng.exponential(1 / hazard).astype(np.int64)
    active_until = np.minimum(left, end)
    repeats = rng.poisson(rate * (active_until - arrival))
    owner = np.repeat(np.arange(customers), repeats)
    span = (active_until - arrival)[owner]
    times = arrival[owner] + (rng.random(len(owner)) * span).astype(np.int64)
    customer = np.concatenate([np.arange(customers), owner])
    time = np.concatenate([arrival, times])
    shape = 4.0  # CV = 1/sqrt(4) = 0.5
    value = np.round(rng.gamma(shape, basket[customer] / shape), 2)
    order = np.lexsort((time, customer))
    transactions = pd.DataFrame(
        {
            "customer": customer[order],
            "time": pd.to_datetime(time[order], unit="s", utc=True),
            "value": np.maximum(value[order], 0.01),
        }
    )
    truth = pd.DataFrame(
        {
            "customer": np.arange(customers),
            "habit": np.array([h.name for h in habits])[code],
            "first_purchase": pd.to_datetime(arrival, unit="s", utc=True),
            "left_at": pd.to_datetime(left, unit="s", utc=True),
            "rate_per_month": rate * DAY * DAYS_PER_MONTH,
            "basket": basket,
        }
    )
    return PurchaseHistory(transactions, truth)


def _epoch(month: str) -> int:
    first = month_start(month)
    return int(pd.Timestamp(first.isoformat(), tz="UTC").timestamp())
