"""The modelling chain on one month's per-user table (no Dagster, no Spark), in three stages.

:func:`embed_stage`, :func:`segment_stage` and :func:`profile_stage` are what the assets
``pca_embedding``, ``kmeans_model`` and ``cluster_profiles`` run (with storage in between);
:func:`segment_month` chains them in one call for tests, benchmarks and the robustness suite,
so these measure exactly what the pipeline does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from amazing_assets.defs.segments.modeling import (
    ModelingConfig,
    SelectionResult,
    fit_embedding,
    fit_segments,
    segment_pipeline,
    select_k,
    tiers,
)
from amazing_assets.defs.segments.profiles import (
    describe,
    name_purity,
    name_segments,
    profile_segments,
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
    kmeans: KMeans
    labels: np.ndarray
    distances: np.ndarray  # to the customer's segment centre


def embed_stage(features: pd.DataFrame, config: ModelingConfig) -> Embedded:
    """Scale and project the features; each customer's tier (non-buyer, buyer, high basket)."""
    embedding, Z = fit_embedding(features, config)
    return Embedded(embedding, Z, tiers(embedding, features))


def segment_stage(Z: np.ndarray, tier: np.ndarray, config: ModelingConfig) -> Segmented:
    """Choose k per tier, fit the segments and assign every customer to the nearest centre."""
    selection = select_k(Z, tier, config)
    kmeans = fit_segments(Z, tier, selection, config)
    distances = kmeans.transform(Z)
    return Segmented(selection, kmeans, distances.argmin(axis=1), distances.min(axis=1))


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
    segmented = segment_stage(embedded.Z, embedded.tier, config)
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
