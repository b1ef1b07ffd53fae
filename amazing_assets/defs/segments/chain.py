"""The modelling chain on one month's per-user table (no Dagster, no Spark), in three stages.

:func:`embed_stage`, :func:`segment_stage` and :func:`profile_stage` are what the assets
``pca_embedding``, ``kmeans_model`` and ``cluster_profiles`` run (with storage in between);
:func:`segment_month` chains them in one call for tests, benchmarks and the robustness suite,
so these measure exactly what the pipeline does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from amazing_assets.defs.segments.action_splits import Split, split_for_actions
from amazing_assets.defs.segments.distinct_names import indistinguishable
from amazing_assets.defs.segments.modeling import (
    ModelingConfig,
    SelectionResult,
    canonical_order,
    fit_embedding,
    fit_segments,
    kmeans_from_centres,
    segment_pipeline,
    select_k,
    tiers,
)
from amazing_assets.defs.segments.profiles import (
    describe,
    name_purity,
    name_segments,
    profile_segments,
    z_profiles,
)


@dataclass
class SegmentedMonth:
    features: pd.DataFrame
    config: ModelingConfig
    Z: np.ndarray
    tier: np.ndarray
    selection: SelectionResult
    kmeans: KMeans
    pipeline: Pipeline
    labels: np.ndarray
    profiles: pd.DataFrame  # described: with names and actions


@dataclass
class Embedded:
    embedding: Pipeline  # scaler + PCA
    Z: np.ndarray
    tier: np.ndarray


@dataclass
class Segmented:
    selection: SelectionResult
    kmeans: KMeans  # its k can be below selection.k when twins were merged
    labels: np.ndarray
    distances: np.ndarray  # to the customer's segment centre
    merged: int = 0  # segments merged into a twin that behaved exactly the same
    splits: list[Split] = field(default_factory=list)  # named segments split for their actions


def embed_stage(features: pd.DataFrame, config: ModelingConfig) -> Embedded:
    """Scale and project the features; each customer's tier (non-buyer, buyer, high basket)."""
    embedding, Z = fit_embedding(features, config)
    return Embedded(embedding, Z, tiers(embedding, features))


def segment_stage(
    Z: np.ndarray, tier: np.ndarray, config: ModelingConfig, features: pd.DataFrame
) -> Segmented:
    """Choose k per tier, fit the segments, merge twins, split named segments whose members need
    other actions (``action_splits``, when the config asks) and assign every customer to the
    nearest centre.
    ``features`` are the customers' rows in ``Z``'s order (twins and splits are found on them).
    """
    selection = select_k(Z, tier, config)
    fitted = fit_segments(Z, tier, selection, config)
    merged = merge_twins(fitted, Z, features)
    kmeans, splits = (
        split_for_actions(merged, Z, features, config) if config.split_for_actions else (merged, [])
    )
    distances = kmeans.transform(Z)
    return Segmented(
        selection,
        kmeans,
        distances.argmin(axis=1),
        distances.min(axis=1),
        fitted.n_clusters - merged.n_clusters,
        splits,
    )


def merge_twins(kmeans: KMeans, Z: np.ndarray, features: pd.DataFrame) -> KMeans:
    """``kmeans`` with every set of twin segments (the same mean on every behaviour trait:
    ``distinct_names.indistinguishable``) replaced by one centre, their members' mean.

    No name can tell such twins apart, so they are one segment. The merge is made here, where
    customers are assigned, so the stored assignments, the nearest-centre model (and the
    real-time predictor) and the profiles all have the same segments; members are reassigned to
    the nearest remaining centre (the twins' members to the merged one), and the check repeats
    until no twin is left (k only decreases).
    """
    while kmeans.n_clusters > 1:
        labels = kmeans.predict(Z)
        into = indistinguishable(z_profiles(features, labels).reset_index())
        if not into:
            return kmeans
        centres = kmeans.cluster_centers_
        kept = [c for c in range(len(centres)) if c not in into]
        merged = []
        for c in kept:
            members = np.isin(labels, [c, *(s for s, t in into.items() if t == c)])
            merged.append(Z[members].mean(axis=0) if members.any() else centres[c])
        kmeans = canonical_order(kmeans_from_centres(np.vstack(merged)))
    return kmeans


def profile_stage(
    features: pd.DataFrame,
    labels: np.ndarray,
    previous: pd.DataFrame | None = None,
    kept: dict[int, str] | None = None,
) -> pd.DataFrame:
    """Profiles with business names (kept from ``previous`` where they still fit) and actions;
    ``kept`` names the previous name of each segment's identity (see ``identity.py``)."""
    profiles = profile_segments(features, labels)
    names = name_segments(profiles, previous, kept)
    return describe(profiles, names, name_purity(features, labels, names))


def segment_month(
    features: pd.DataFrame, config: ModelingConfig, previous: pd.DataFrame | None = None
) -> SegmentedMonth:
    """Embed, choose k per tier, fit, assign, profile and name one month's customers."""
    embedded = embed_stage(features, config)
    segmented = segment_stage(embedded.Z, embedded.tier, config, features)
    pipeline = segment_pipeline(embedded.embedding, segmented.kmeans)
    named = profile_stage(features, segmented.labels, previous)
    return SegmentedMonth(
        features,
        config,
        embedded.Z,
        embedded.tier,
        segmented.selection,
        segmented.kmeans,
        pipeline,
        segmented.labels,
        named,
    )
