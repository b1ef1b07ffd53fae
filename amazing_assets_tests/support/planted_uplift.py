"""Test-only generator: next month's purchases for an export, with a known (planted) uplift.

Reads an export (its rows: ``user_key``, ``group``, ``export_id``), and gives every customer a
purchase with probability ``base_rate`` (controls) or ``base_rate * (1 + uplift)`` (targets),
then 1 + Poisson(``extra_orders``) orders of log-normal value. The truth it planted is known
exactly: the purchase-rate difference ``base_rate * uplift``, and the revenue-per-customer
difference ``base_rate * uplift * mean orders * mean order value``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.defs.measurement.holdout import TARGET


@dataclass(frozen=True)
class PlantedUplift:
    base_rate: float = 0.10
    uplift: float = 0.20  # relative rise of the targets' purchase probability
    extra_orders: float = 0.4
    order_mu: float = 3.5  # log of a typical order value (≈ 33 €)
    order_sigma: float = 0.8

    @property
    def rate_difference(self) -> float:
        return self.base_rate * self.uplift

    @property
    def revenue_difference(self) -> float:
        order_value = float(np.exp(self.order_mu + self.order_sigma**2 / 2))
        return self.rate_difference * (1 + self.extra_orders) * order_value


def plant_purchases(exports: pd.DataFrame, truth: PlantedUplift, seed: int) -> pd.DataFrame:
    """Purchase events (``user_key``, ``session_key``, ``price``) of the month after the export."""
    rng = np.random.default_rng(seed)
    is_target = exports["group"].to_numpy() == TARGET
    probability = np.where(is_target, truth.base_rate * (1 + truth.uplift), truth.base_rate)
    buyers = exports["user_key"].to_numpy()[rng.random(len(exports)) < probability]
    orders = 1 + rng.poisson(truth.extra_orders, len(buyers))
    keys = np.repeat(buyers, orders)
    order_number = np.concatenate([np.arange(n) for n in orders]) if len(orders) else []
    return pd.DataFrame(
        {
            "user_key": keys,
            "session_key": [f"{k}-s{i}" for k, i in zip(keys, order_number, strict=True)],
            "price": rng.lognormal(truth.order_mu, truth.order_sigma, len(keys)),
        }
    )
