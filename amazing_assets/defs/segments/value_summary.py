"""Per segment: expected 90-day revenue and churn risk, and the action they call for.

Win back only where it pays: a segment whose buyers are likely gone *and* worth at least the
month's average buyer gets a personal win-back offer; likely gone but worth little gets a
low-cost reminder without discount.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from amazing_assets.defs.value.churn_bands import HIGH_CHURN

SEGMENT_VALUE_COLUMNS: tuple[str, ...] = (
    "modelled_buyers",
    "expected_revenue_90d",
    "expected_revenue_per_customer",
    "expected_revenue_per_buyer",
    "churn_risk",
    "value_priority",
    "value_action",
    "value_action_fr",
)

VALUE_ACTIONS: dict[str, tuple[str, str]] = {  # priority → (English, French)
    "win_back": (
        "Win back now with a personal offer: churn risk 50 % or more, and their expected value "
        "pays for it",
        "Reconquérir maintenant avec une offre personnelle : risque de départ de 50 % ou plus, et "
        "leur valeur attendue la finance",
    ),
    "low_cost_reminder": (
        "Low-cost reminder only, no discount: churn risk 50 % or more, expected value too low for "
        "a paid win-back",
        "Simple relance à faible coût, sans remise : risque de départ de 50 % ou plus, valeur "
        "attendue trop faible pour une reconquête payante",
    ),
    "protect": (
        "Protect and grow: service and loyalty perks, no discount needed (churn risk under 50 %, "
        "high expected value)",
        "Fidéliser : service et avantages, sans remise (risque de départ sous 50 %, valeur "
        "attendue élevée)",
    ),
    "nurture": (
        "Follow the segment's plan: churn risk under 50 %, expected value below the average "
        "buyer's",
        "Suivre le plan du segment : risque de départ sous 50 %, valeur attendue sous celle de "
        "l'acheteur moyen",
    ),
    "no_history": (
        "No purchase yet: value not predicted; follow the segment's plan",
        "Pas encore d'achat : valeur non prédite ; suivre le plan du segment",
    ),
}


def segment_value(assignments: pd.DataFrame, value: pd.DataFrame | None) -> pd.DataFrame:
    """Per segment: buyers the model covers, expected 90-day revenue, mean churn risk.

    ``assignments`` has ``user_key`` and ``segment`` for every customer; ``value`` is the month's
    ``customer_value`` (buyers only). A customer who never bought has no prediction: they count
    as 0 € in the segment's expected revenue and not at all in its churn risk, which is the mean
    over the segment's buyers (NaN for a segment without buyers).
    """
    segments = pd.Index(sorted(assignments["segment"].unique()), name="segment")
    if value is None or value.empty:
        out = pd.DataFrame(index=segments)
        out["modelled_buyers"] = 0
        for column in SEGMENT_VALUE_COLUMNS[1:5]:
            out[column] = np.nan
        return out.reset_index()
    joined = assignments[["user_key", "segment"]].merge(
        value[["user_key", "churn_risk", "expected_revenue_90d"]], on="user_key", how="left"
    )
    grouped = joined.groupby("segment")
    out = pd.DataFrame(
        {
            "modelled_buyers": grouped["churn_risk"].count(),
            "expected_revenue_90d": grouped["expected_revenue_90d"].sum(),
            "expected_revenue_per_customer": grouped["expected_revenue_90d"].sum() / grouped.size(),
            "expected_revenue_per_buyer": grouped["expected_revenue_90d"].mean(),
            "churn_risk": grouped["churn_risk"].mean(),
        }
    ).reindex(segments)
    out["modelled_buyers"] = out["modelled_buyers"].fillna(0).astype("int64")
    return out.reset_index()


def value_priority(row: pd.Series, average_buyer_value: float) -> str:
    """What the segment's value and churn risk call for (keys of :data:`VALUE_ACTIONS`).

    "Worth it" = the segment's buyers are expected to bring at least what the month's average
    buyer brings over the next 90 days; "high churn" = mean churn risk ≥ :data:`HIGH_CHURN`.
    """
    if not row["modelled_buyers"] or pd.isna(row["churn_risk"]):
        return "no_history"
    worth = row["expected_revenue_per_buyer"] >= average_buyer_value
    if row["churn_risk"] >= HIGH_CHURN:
        return "win_back" if worth else "low_cost_reminder"
    return "protect" if worth else "nurture"


def with_value_actions(profiles: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """``profiles`` with :data:`SEGMENT_VALUE_COLUMNS` (per-segment value and its action)."""
    out = profiles.drop(columns=[c for c in SEGMENT_VALUE_COLUMNS if c in profiles]).merge(
        segments, on="segment", how="left"
    )
    buyers = out["modelled_buyers"].fillna(0)
    total = float(out["expected_revenue_90d"].fillna(0).sum())
    average = total / float(buyers.sum()) if buyers.sum() > 0 else float("inf")
    out["modelled_buyers"] = buyers.astype("int64")
    out["value_priority"] = [value_priority(row, average) for _, row in out.iterrows()]
    out["value_action"] = out["value_priority"].map(lambda p: VALUE_ACTIONS[p][0])
    out["value_action_fr"] = out["value_priority"].map(lambda p: VALUE_ACTIONS[p][1])
    return out
