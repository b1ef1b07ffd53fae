"""Why a customer is in their segment, and the smallest change that would move them up.

Plain functions over the real-time predictor (:mod:`.prediction`), shared with the Panel app (no
Dagster, no Spark, no warehouse access). A customer is described by the values a marketer knows
(:func:`form_values`: recency, orders, spend, views, carts, items bought); every feature the model
sees is derived from them by :func:`~.prediction.behaviour_features`, the prediction form's path,
so a suggested change is predicted exactly as the form would predict it.

* :func:`why_this_segment`: the few features where the customer sits closer to their segment's
  median than to the month's median customer, most telling first ("orders 4 (segment median 3,
  all customers 1)"). Distances are on the model's scale (log for counts and money, divided by
  the model's standard deviation of the feature), so "closer" is what the model sees.
* :func:`move_up`: the smallest change in *one* lever (more orders at the customer's usual
  basket, a more recent visit, more spend on the same orders) that makes the predictor return a
  more valuable segment. Each lever has a grid of steps, smallest first; the search goes step by
  step across the levers, so no lever reaches a more valuable segment at an earlier step than the
  one returned. Value order: :func:`segment_value_order`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.defs.segments.modeling import LOG_FEATURES
from amazing_assets.defs.segments.prediction import SegmentPredictor, behaviour_features

FEATURE_INPUTS = {  # per-user table column → keyword of behaviour_features
    "recency_days": "recency_days",
    "frequency": "orders",
    "monetary": "spend",
    "n_views": "views",
    "n_carts": "carts",
    "n_purchases": "purchases",
}
EXPLAINED_FEATURES: tuple[str, ...] = (
    "frequency",
    "recency_days",
    "monetary",
    "avg_order_value",
    "n_views",
    "n_carts",
)
"""Features a marketer reads without a definition (the funnel rates are left to the profiles)."""
CUSTOMER_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys([*FEATURE_INPUTS, *EXPLAINED_FEATURES]))
"""The per-user table columns the explanation reads of a customer (and of the month's median)."""

ORDER_STEPS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10)
"""More orders, each at the customer's average basket."""
RECENCY_STEPS: tuple[float, ...] = (1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90)
"""Fewer days since the last visit (never below 0)."""
SPEND_STEPS: tuple[float, ...] = (0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 10)
"""More spend on the same orders, in baskets (the customer's average order value)."""
LEVERS: tuple[str, ...] = ("orders", "recency_days", "spend")


def form_values(features: Mapping[str, float]) -> dict[str, float]:
    """A per-user table row (``user_features_rfm``) as the prediction form's values."""
    values = {key: float(features[column]) for column, key in FEATURE_INPUTS.items()}
    for key in ("orders", "views", "carts", "purchases"):
        values[key] = round(values[key])
    return values


def model_features(values: Mapping[str, float]) -> dict[str, float]:
    """The model's features from form values (the prediction form's own transform)."""
    return behaviour_features(
        recency_days=float(values["recency_days"]),
        orders=int(values["orders"]),
        spend=float(values["spend"]),
        views=int(values["views"]),
        carts=int(values["carts"]),
        purchases=int(values["purchases"]),
    )


def segment_values(profiles: pd.DataFrame) -> dict[int, float]:
    """Each segment's value per customer, the order "more valuable" follows.

    The segment's expected 90-day revenue per customer (``customer_value`` through the profiles)
    where every segment has it, else its observed revenue per customer over the window
    (``revenue_share / share``, proportional to revenue per customer).
    """
    frame = profiles.reset_index() if "segment" not in profiles.columns else profiles
    expected = frame.get("expected_revenue_per_customer")
    if expected is not None and expected.notna().all():
        value = expected.astype(float)
    else:
        value = frame["revenue_share"].astype(float) / frame["share"].astype(float).replace(0, 1)
    return {int(s): float(v) for s, v in zip(frame["segment"], value, strict=True)}


def segment_value_order(profiles: pd.DataFrame) -> list[int]:
    """Segment numbers from the least to the most valuable (ties by segment number)."""
    values = segment_values(profiles)
    return sorted(values, key=lambda s: (values[s], s))


@dataclass(frozen=True)
class Reason:
    """One feature that places the customer in their segment."""

    feature: str  # per-user table column (EXPLAINED_FEATURES)
    value: float  # the customer's
    segment_median: float
    population_median: float
    weight: float  # how much closer to the segment than to everyone, in model standard deviations


def _scales(predictor: SegmentPredictor) -> dict[str, float]:
    """Each model feature's standard deviation as the model sees it (after its log)."""
    preprocess = predictor.embed.named_steps["preprocess"]
    scale = predictor.embed.named_steps["scale"].scale_
    out: dict[str, float] = {}
    for name, s in zip(preprocess.get_feature_names_out(), scale, strict=True):
        feature = str(name).split("__", 1)[-1]  # the first column of a feature is its value;
        out.setdefault(feature, float(s) if s > 0 else 1.0)  # later ones are tier flags
    return out


def _on_model_scale(feature: str, value: float) -> float:
    return float(np.log1p(max(value, 0.0))) if feature in LOG_FEATURES else float(value)


def why_this_segment(
    features: Mapping[str, float],
    predictor: SegmentPredictor,
    profiles: pd.DataFrame,
    population: Mapping[str, float],
    count: int = 3,
) -> list[Reason]:
    """Up to ``count`` features where the customer is closer to their segment's median than to
    the month's median customer (``population``: feature → median), most telling first.

    ``features``: the customer's per-user table row; their segment is the predictor's for it.
    """
    derived = model_features(form_values(features))
    segment = predictor.predict(derived).segment
    frame = profiles.set_index("segment") if "segment" in profiles.columns else profiles
    row = frame.loc[segment]
    scales = _scales(predictor)
    reasons = []
    for feature in EXPLAINED_FEATURES:
        median = row.get(f"median_{feature}")
        everyone = population.get(feature)
        if median is None or everyone is None or pd.isna(median) or pd.isna(everyone):
            continue
        value = float(derived[feature])
        x = _on_model_scale(feature, value)
        to_segment = abs(x - _on_model_scale(feature, float(median)))
        to_everyone = abs(x - _on_model_scale(feature, float(everyone)))
        weight = (to_everyone - to_segment) / scales.get(feature, 1.0)
        if weight > 1e-9:
            reasons.append(Reason(feature, value, float(median), float(everyone), weight))
    reasons.sort(key=lambda r: -r.weight)
    return reasons[:count]


@dataclass(frozen=True)
class Change:
    """One lever moved by one step of its grid."""

    lever: str  # "orders", "recency_days" or "spend"
    step: int  # index in the lever's grid (0 = smallest)
    before: dict[str, float]  # form values
    after: dict[str, float]

    @property
    def delta(self) -> float:
        """Orders added, days removed from the recency, or money added (always > 0)."""
        if self.lever == "recency_days":
            return self.before["recency_days"] - self.after["recency_days"]
        return self.after[self.lever] - self.before[self.lever]


@dataclass(frozen=True)
class MoveUp:
    change: Change
    segment: int  # the customer's segment now (as predicted)
    target: int  # the more valuable segment the change gives


def basket(values: Mapping[str, float], reference_basket: float) -> float:
    """The customer's average order value, or ``reference_basket`` before a first order."""
    orders = values["orders"]
    if orders and values["spend"] > 0:
        return float(values["spend"]) / float(orders)
    return float(reference_basket)


def lever_steps(
    values: Mapping[str, float], lever: str, reference_basket: float
) -> list[dict[str, float]]:
    """The lever's changed form values, one per grid step, smallest first (only real changes)."""
    out: list[dict[str, float]] = []
    unit = basket(values, reference_basket)
    if lever == "orders":
        for added in ORDER_STEPS:
            changed = dict(values)
            changed["orders"] = int(values["orders"]) + added
            changed["spend"] = round(float(values["spend"]) + added * unit, 2)
            changed["purchases"] = int(values["purchases"]) + added
            out.append(changed)
    elif lever == "recency_days":
        for fewer in RECENCY_STEPS:
            if fewer > values["recency_days"]:
                break
            changed = dict(values)
            changed["recency_days"] = float(values["recency_days"]) - fewer
            out.append(changed)
    elif lever == "spend":
        if not values["orders"] or unit <= 0:
            return out  # spend comes with an order: a customer without one has the orders lever
        for baskets in SPEND_STEPS:
            changed = dict(values)
            changed["spend"] = round(float(values["spend"]) + baskets * unit, 2)
            out.append(changed)
    else:
        raise ValueError(f"unknown lever {lever!r}; one of {LEVERS}")
    return out


def reference_basket(profiles: pd.DataFrame) -> float:
    """The month's median buyer basket, from any buyer segment's ``buyer_aov / basket_ratio``
    (0 when the month has no buyer)."""
    frame = profiles
    if "buyer_aov" not in frame or "basket_ratio" not in frame:
        return 0.0
    usable = frame[(frame["basket_ratio"] > 0) & frame["buyer_aov"].notna()]
    if usable.empty:
        return 0.0
    ratio = usable["buyer_aov"].astype(float) / usable["basket_ratio"].astype(float)
    value = float(ratio.median())
    return value if math.isfinite(value) else 0.0


def move_up(
    features: Mapping[str, float],
    predictor: SegmentPredictor,
    values_of_segments: Mapping[int, float],
    reference_basket: float = 0.0,
    levers: Sequence[str] = LEVERS,
) -> MoveUp | None:
    """The smallest change in one lever that makes the predictor return a more valuable segment.

    ``features``: the customer's per-user table row; ``values_of_segments``: each segment's
    value (:func:`segment_values`; more valuable = strictly higher). Grid steps are tried
    smallest first, each step across the levers in ``levers`` order; the first change giving a
    more valuable segment wins. None when the customer is already in a most valuable segment,
    or no step of any grid reaches a more valuable one.
    """
    worth = {int(s): float(v) for s, v in values_of_segments.items()}
    values = form_values(features)
    segment = predictor.predict(model_features(values)).segment
    if worth[segment] >= max(worth.values()):
        return None
    grids = {lever: lever_steps(values, lever, reference_basket) for lever in levers}
    for step in range(max((len(g) for g in grids.values()), default=0)):
        for lever in levers:
            if step >= len(grids[lever]):
                continue
            after = grids[lever][step]
            target = predictor.predict(model_features(after)).segment
            if worth[target] > worth[segment]:
                return MoveUp(Change(lever, step, dict(values), after), segment, target)
    return None
