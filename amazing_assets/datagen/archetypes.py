"""Behavioural archetypes planted in generated exports, with their ground truth names.

Each archetype is a compact region of behaviour (sessions, funnel rates, price level, timing)
so that a segmentation can be scored against the truth. Shares are of customers; together the
buying archetypes make ≈12.6 % purchasers, as in REES46 (docs/pipeline.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Archetype:
    name: str
    share: float
    sessions_per_month: float  # Poisson mean (at least one session when active)
    views_per_session: float  # mean of 1 + Poisson(mean - 1): compact, never 0
    cart_rate: float  # P(cart | view)
    purchase_rate: float  # P(purchase | cart)
    remove_rate: float  # P(remove | cart not purchased)
    price_alpha: float  # product price quantile ~ Beta(alpha, beta) over the price-sorted catalogue
    price_beta: float
    active_days: tuple[
        int, int
    ]  # sessions fall on days [first, last] of the month (1-based, inclusive)
    active_probability: float  # P(active in a given month)
    evening_bias: float  # share of sessions placed in the evening (18-24 h UTC)


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("loyal_big_spender", 0.04, 8.0, 6.0, 0.45, 0.85, 0.10, 6.0, 1.5, (1, 31), 0.95, 0.3),
    Archetype("bargain_hunter", 0.05, 6.0, 8.0, 0.30, 0.70, 0.30, 1.0, 8.0, (1, 31), 0.90, 0.3),
    Archetype("one_time_buyer", 0.05, 1.0, 3.0, 0.00, 1.00, 0.00, 2.0, 2.0, (1, 31), 0.90, 0.3),
    Archetype("cart_abandoner", 0.12, 3.0, 5.0, 0.55, 0.00, 0.50, 2.5, 2.0, (1, 31), 0.90, 0.3),
    Archetype("window_shopper", 0.44, 4.0, 4.0, 0.00, 0.00, 0.00, 2.0, 2.0, (1, 31), 0.90, 0.3),
    Archetype("dormant", 0.30, 1.0, 2.0, 0.00, 0.00, 0.00, 2.0, 2.0, (1, 4), 0.90, 0.3),
)
ARCHETYPE_NAMES: tuple[str, ...] = tuple(a.name for a in ARCHETYPES)
BOT = "bot"


def archetype_arrays() -> dict[str, np.ndarray]:
    """Column arrays of the archetype table, indexed by archetype code."""
    fields = [
        "sessions_per_month",
        "views_per_session",
        "cart_rate",
        "purchase_rate",
        "remove_rate",
        "price_alpha",
        "price_beta",
        "active_probability",
        "evening_bias",
    ]
    arrays = {f: np.array([getattr(a, f) for a in ARCHETYPES], dtype=np.float64) for f in fields}
    arrays["first_day"] = np.array([a.active_days[0] for a in ARCHETYPES])
    arrays["last_day"] = np.array([a.active_days[1] for a in ARCHETYPES])
    arrays["share"] = np.array([a.share for a in ARCHETYPES])
    return arrays


def expected_events_per_session(a: Archetype) -> float:
    if a.name == "one_time_buyer":  # exactly one cart and one purchase
        return a.views_per_session + 2
    carts = a.views_per_session * a.cart_rate
    purchases = carts * a.purchase_rate
    removes = (carts - purchases) * a.remove_rate
    return a.views_per_session + carts + purchases + removes


def expected_events_per_user(a: Archetype) -> float:
    return a.active_probability * max(a.sessions_per_month, 1.0) * expected_events_per_session(a)
