"""A warehouse with one million customers per month, for the app's load-time measurement.

Running the pipeline on a million customers takes minutes; the app only reads its outputs. So
the real model of the session's pipeline run segments a million customers resampled from that
run's features, and the same functions the assets use write the tables the app reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.pipeline import Pipeline

from amazing_assets.defs.segments.modeling import MODEL_FEATURES, assign
from amazing_assets.defs.segments.profiles import describe, name_segments, profile_segments
from amazing_assets.defs.segments.value_summary import segment_value, with_value_actions
from amazing_assets.lib.artifacts import load_model, model_location, save_model
from amazing_assets.lib.delta_tables import read_months, write_arrow_months
from amazing_assets.lib.model_signing import model_signing_key
from amazing_assets.lib.pseudonymize import existing_key
from amazing_assets.lib.storage import Location
from benchmarks.modeling import resample


def signing_key() -> bytes:
    """The pipeline's (the test key from the environment, as the app reads it)."""
    return model_signing_key(existing_key(None))


def write(warehouse: Path, name: str, frame: pd.DataFrame, month: str) -> None:
    table = pa.Table.from_pandas(frame.assign(month=month), preserve_index=False)
    write_arrow_months(Location.parse(str(warehouse / name)), table, [month])


def build(source: Path, out: Path, months: list[str], customers: int = 1_000_000) -> Path:
    """``months``' tables for ``customers`` each; the last month also gets the explorer's data."""
    model_month = months[-1]
    model, _ = load_model(
        model_location(Location.parse(str(source / "kmeans_model")), model_month),
        asset="kmeans_model",
        month=model_month,
        signing_key=signing_key(),
    )
    features = read_months(
        Location.parse(str(source / "user_features_rfm")), [model_month]
    ).to_pandas()
    source_value = read_months(
        Location.parse(str(source / "customer_value")), [model_month]
    ).to_pandas()
    previous = None
    for seed, month in enumerate(months):
        big = resample(features.drop(columns="month"), customers, seed=seed)
        labels, distances = assign(model, big)
        profiles = profile_segments(big, labels)
        described = describe(profiles, name_segments(profiles, previous))
        # Buyers get a resampled buyer's prediction, as many as the run had buyers per customer.
        value = resampled_value(source_value, big, len(features), seed)
        assignments = pd.DataFrame({"user_key": big["user_key"], "segment": labels})
        described = with_value_actions(described, segment_value(assignments, value))
        previous = described
        write(out, "cluster_profiles", described, month)
        kpis = {
            "customers": customers,
            "purchasers": int((big["frequency"] > 0).sum()),
            "revenue": round(float(big["monetary"].sum()), 2),
            "orders": int(big["frequency"].sum()),
            "events": int(big["n_events"].sum()),
        }
        kpis["avg_order_value"] = round(kpis["revenue"] / max(kpis["orders"], 1), 2)
        write(out, "monthly_kpis", pd.DataFrame([kpis]), month)
        if month != model_month:
            continue
        save_model(
            model_location(Location.parse(str(out / "kmeans_model")), month),
            model,
            asset="kmeans_model",
            month=month,
            signing_key=signing_key(),
        )
        write(out, "customer_value", value.drop(columns="month", errors="ignore"), month)
        write(
            out,
            "kmeans_model/assignments",
            pd.DataFrame({"user_key": big["user_key"], "segment": labels, "distance": distances}),
            month,
        )
        embedded = Pipeline(model.steps[:-1]).transform(big.loc[:, list(MODEL_FEATURES)])
        coordinates = pd.DataFrame(
            embedded, columns=[f"pc_{i + 1}" for i in range(embedded.shape[1])]
        ).assign(user_key=big["user_key"])
        write(out, "pca_embedding/coordinates", coordinates, month)
    return out


def resampled_value(
    source: pd.DataFrame, customers: pd.DataFrame, source_customers: int, seed: int
) -> pd.DataFrame:
    """As many predictions as the run had per customer, drawn from its rows and given to the
    resampled customers who bought first (then to others, as buyers outside the window)."""
    rng = np.random.default_rng(seed)
    count = round(len(customers) * len(source) / max(source_customers, 1))
    rows = source.drop(columns="month").iloc[rng.integers(0, len(source), count)]
    bought = customers["frequency"].to_numpy() > 0
    order = np.concatenate(
        [rng.permutation(np.flatnonzero(bought)), rng.permutation(np.flatnonzero(~bought))]
    )
    keys = customers["user_key"].to_numpy()[order[:count]]
    return rows.assign(user_key=keys).reset_index(drop=True)
