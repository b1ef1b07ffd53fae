"""Real-time segment prediction for one customer (used by the Panel app and any API).

Takes the stored pipeline (preprocessing → PCA → K-Means) and the month's profiles; answers in a
few milliseconds: the pipeline is applied to a single row, no warehouse access per call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from amazing_assets.defs.segments.modeling import MODEL_FEATURES
from amazing_assets.lib.artifacts import load_model, model_location
from amazing_assets.lib.delta_tables import read_months
from amazing_assets.lib.model_signing import model_signing_key
from amazing_assets.lib.pseudonymize import existing_key
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location

ACTION_FIELDS = ("channel", "offer", "timing", "kpi")


@dataclass(frozen=True)
class Prediction:
    segment: int
    name: str
    distances: dict[str, float]  # segment name → distance to its centre (embedding units)
    action: dict[str, str]  # channel, offer, timing, kpi


def behaviour_features(
    *,
    recency_days: float,
    orders: int,
    spend: float,
    views: int,
    carts: int,
    purchases: int | None = None,
) -> dict[str, float]:
    """The model's features from the values a marketer knows about a customer.

    ``purchases`` (items bought) defaults to ``orders``. Rates are derived exactly as in the
    per-user table: capped at 1, 0 when there is nothing to divide by.
    """
    values = {
        "recency_days": recency_days,
        "orders": orders,
        "spend": spend,
        "views": views,
        "carts": carts,
    }
    for name, value in values.items():
        if value is None or not math.isfinite(float(value)) or float(value) < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    purchases = orders if purchases is None else purchases
    return {
        "recency_days": float(recency_days),
        "frequency": float(orders),
        "monetary": float(spend),
        "avg_order_value": float(spend) / orders if orders else 0.0,
        "n_views": float(views),
        "n_carts": float(carts),
        "view_to_cart_rate": min(1.0, carts / views) if views else 0.0,
        "cart_to_purchase_rate": min(1.0, purchases / carts) if carts else 0.0,
    }


class SegmentPredictor:
    """Predicts segments with one month's model and profiles."""

    def __init__(self, pipeline: Pipeline, profiles: pd.DataFrame) -> None:
        self.embed = Pipeline(pipeline.steps[:-1])
        self.kmeans = pipeline.steps[-1][1]
        self.profiles = profiles.set_index("segment")
        missing = set(range(self.kmeans.n_clusters)) - set(self.profiles.index)
        if missing:
            raise ValueError(f"profiles lack segments {sorted(missing)} of the model")

    def predict(self, features: Mapping[str, float]) -> Prediction:
        missing = [f for f in MODEL_FEATURES if f not in features]
        if missing:
            raise ValueError(f"missing features {missing}; see behaviour_features()")
        row = pd.DataFrame([{f: float(features[f]) for f in MODEL_FEATURES}])
        distances = self.kmeans.transform(self.embed.transform(row))[0]
        segment = int(np.argmin(distances))
        profile = self.profiles.loc[segment]
        return Prediction(
            segment=segment,
            name=str(profile["name"]),
            distances={
                str(self.profiles.loc[i, "name"]): float(d) for i, d in enumerate(distances)
            },
            action={f: str(profile[f]) for f in ACTION_FIELDS},
        )


PREDICTOR_ASSET = "kmeans_model"


def load_predictor(
    warehouse: Location, month: str, key_file: Path | None = None
) -> SegmentPredictor:
    """The month's real-time predictor: the stored pipeline (signature- and integrity-checked)
    and profiles.

    The signing key derives from the pipeline's key (``AMAZING_PSEUDONYMIZATION_KEY``, or the
    embedded default's ``key_file``). No Dagster import on this path: the Panel app loads
    models with it.
    """
    signing_key = model_signing_key(existing_key(key_file))
    model, _ = load_model(
        model_location(table_location(warehouse, PREDICTOR_ASSET), month),
        asset=PREDICTOR_ASSET,
        month=month,
        signing_key=signing_key,
    )
    profiles = read_months(table_location(warehouse, "cluster_profiles"), [month]).to_pandas()
    if profiles.empty:
        raise FileNotFoundError(f"no cluster_profiles for {month}: materialise it first")
    return SegmentPredictor(model, profiles)
