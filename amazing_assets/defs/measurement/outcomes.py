"""What each export changed in the following month: target versus control (pure pandas).

Inputs are the export's rows (one per exported customer, with its ``group``) and the purchase
events of the month after the export (``user_key``, ``session_key``, ``price``), or None when
that month has no clean events yet. An order is a session with a purchase, as everywhere else
in the pipeline (``monthly_kpis``, ``frequency``); revenue is the sum of purchase prices.

Every export gets one row with a ``status``:

* ``waiting``: the next month is not there yet, nothing is measured;
* ``not_measurable``: the control group is smaller than the power calculation requires for the
  minimum detectable effect; no difference and no verdict are given (only the group sizes, the
  raw rates and the controls needed), because an interval that wide would mean nothing;
* ``measured``: the differences with their intervals, the incremental revenue, and a
  ``verdict`` on the purchase rate: ``worked`` (interval above zero), ``harmed`` (below zero)
  or ``no_effect`` (the interval holds zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.defs.measurement.holdout import CONTROL, TARGET
from amazing_assets.defs.measurement.statistics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_POWER,
    controls_needed,
    proportion_difference,
    welch_difference,
)

WAITING, NOT_MEASURABLE, MEASURED = "waiting", "not_measurable", "measured"
WORKED, NO_EFFECT, HARMED = "worked", "no_effect", "harmed"
DEFAULT_MINIMUM_EFFECT = 0.02
"""Two points of purchase rate: the smallest rise a control group must be able to detect."""

EXPORT_FIELDS = [
    "export_id",
    "month",
    "segment",
    "segment_name",
    "segment_name_fr",
    "action",
    "action_fr",
    "control_share",
]
FIGURES = [
    "targets",
    "controls",
    "target_purchasers",
    "control_purchasers",
    "target_purchase_rate",
    "control_purchase_rate",
    "purchase_rate_diff",
    "purchase_rate_low",
    "purchase_rate_high",
    "target_orders_per_customer",
    "control_orders_per_customer",
    "orders_diff",
    "orders_low",
    "orders_high",
    "target_revenue_per_customer",
    "control_revenue_per_customer",
    "revenue_diff",
    "revenue_low",
    "revenue_high",
    "incremental_revenue",
    "incremental_revenue_low",
    "incremental_revenue_high",
    "controls_needed",
]
COLUMNS = [
    *EXPORT_FIELDS,
    "outcome_month",
    "status",
    "verdict",
    *FIGURES,
    "minimum_effect",
    "confidence",
]
COUNTS = ("targets", "controls", "target_purchasers", "control_purchasers", "controls_needed")


@dataclass(frozen=True)
class OutcomeSettings:
    """What "measurable" means: the effect to detect, the interval's level, the power."""

    minimum_effect: float = DEFAULT_MINIMUM_EFFECT
    confidence: float = DEFAULT_CONFIDENCE
    power: float = DEFAULT_POWER


def customer_outcomes(exported: pd.DataFrame, purchases: pd.DataFrame) -> pd.DataFrame:
    """``exported`` with each customer's next-month ``purchased``, ``orders`` and ``revenue``."""
    per_customer = purchases.groupby("user_key").agg(
        orders=("session_key", "nunique"), revenue=("price", "sum"), events=("price", "size")
    )
    joined = exported.join(per_customer, on="user_key")
    return joined.assign(
        purchased=joined["events"].fillna(0) > 0,
        orders=joined["orders"].fillna(0).astype("int64"),
        revenue=joined["revenue"].fillna(0.0).astype("float64"),
    ).drop(columns="events")


def measure_export(
    customers: pd.DataFrame, control_share: float, settings: OutcomeSettings
) -> dict[str, object]:
    """The figures of one export whose customers carry their next-month outcomes."""
    target = customers[customers["group"] == TARGET]
    control = customers[customers["group"] == CONTROL]
    n_t, n_c = len(target), len(control)
    x_t, x_c = int(target["purchased"].sum()), int(control["purchased"].sum())
    pooled = (x_t + x_c) / max(n_t + n_c, 1)
    needed = controls_needed(
        pooled, settings.minimum_effect, control_share, settings.confidence, settings.power
    )
    row: dict[str, object] = {
        "targets": n_t,
        "controls": n_c,
        "target_purchasers": x_t,
        "control_purchasers": x_c,
        "target_purchase_rate": x_t / n_t if n_t else np.nan,
        "control_purchase_rate": x_c / n_c if n_c else np.nan,
        "target_orders_per_customer": target["orders"].mean() if n_t else np.nan,
        "control_orders_per_customer": control["orders"].mean() if n_c else np.nan,
        "target_revenue_per_customer": target["revenue"].mean() if n_t else np.nan,
        "control_revenue_per_customer": control["revenue"].mean() if n_c else np.nan,
        "controls_needed": needed,
    }
    if n_c < needed or n_t < 2:
        return {**row, "status": NOT_MEASURABLE, "verdict": None}
    rate = proportion_difference(x_t, n_t, x_c, n_c, settings.confidence)
    orders = _welch(target["orders"], control["orders"], settings.confidence)
    revenue = _welch(target["revenue"], control["revenue"], settings.confidence)
    incremental = revenue.scaled(n_t)
    verdict = WORKED if rate.low > 0 else HARMED if rate.high < 0 else NO_EFFECT
    return {
        **row,
        "status": MEASURED,
        "verdict": verdict,
        "purchase_rate_diff": rate.estimate,
        "purchase_rate_low": rate.low,
        "purchase_rate_high": rate.high,
        "orders_diff": orders.estimate,
        "orders_low": orders.low,
        "orders_high": orders.high,
        "revenue_diff": revenue.estimate,
        "revenue_low": revenue.low,
        "revenue_high": revenue.high,
        "incremental_revenue": incremental.estimate,
        "incremental_revenue_low": incremental.low,
        "incremental_revenue_high": incremental.high,
    }


def _welch(target: pd.Series, control: pd.Series, confidence: float):
    return welch_difference(
        float(target.mean()),
        float(target.var(ddof=1)),
        len(target),
        float(control.mean()),
        float(control.var(ddof=1)),
        len(control),
        confidence,
    )


def measure_exports(
    exports: pd.DataFrame,
    purchases: pd.DataFrame | None,
    outcome_month: str,
    settings: OutcomeSettings | None = None,
) -> pd.DataFrame:
    """One row per export of ``exports`` (:data:`COLUMNS`), measured on ``purchases`` of
    ``outcome_month``, or ``waiting`` for it when ``purchases`` is None."""
    settings = settings or OutcomeSettings()
    rows = []
    customers = customer_outcomes(exports, purchases) if purchases is not None else None
    for export, members in exports.groupby("export_id", sort=True):
        first = members.iloc[0]
        row: dict[str, object] = {field: first.get(field) for field in EXPORT_FIELDS}
        row.update(
            outcome_month=outcome_month,
            minimum_effect=settings.minimum_effect,
            confidence=settings.confidence,
        )
        if customers is None:
            sizes = members["group"].value_counts()
            row.update(
                status=WAITING,
                verdict=None,
                targets=int(sizes.get(TARGET, 0)),
                controls=int(sizes.get(CONTROL, 0)),
            )
        else:
            chosen = customers[customers["export_id"] == export]
            row.update(measure_export(chosen, float(first["control_share"]), settings))
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for column in COUNTS:
        frame[column] = frame[column].astype("Int64")
    for column in set(FIGURES) - set(COUNTS):
        frame[column] = frame[column].astype("float64")
    return frame
