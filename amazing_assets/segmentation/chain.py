"""The whole modelling chain on one month's per-user table, in one call (no Dagster, no Spark).

The assets run the same steps split over ``pca_embedding``, ``kmeans_model`` and
``cluster_profiles``; tests, benchmarks and the robustness suite call :func:`segment_month` so
they measure exactly what the pipeline does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from amazing_assets.segmentation.modeling import (
    ModelingConfig,
    SelectionResult,
    assign,
    fit_embedding,
    fit_segments,
    segment_pipeline,
    select_k,
    tiers,
)
from amazing_assets.segmentation.profiles import describe, name_segments, profile_segments


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


def segment_month(
    features: pd.DataFrame, config: ModelingConfig, previous: pd.DataFrame | None = None
) -> SegmentedMonth:
    """Embed, choose k per tier, fit, assign, profile and name one month's customers."""
    embedding, Z = fit_embedding(features, config)
    tier = tiers(embedding, features)
    selection = select_k(Z, tier, config)
    kmeans = fit_segments(Z, tier, selection, config)
    pipeline = segment_pipeline(embedding, kmeans)
    labels, _ = assign(pipeline, features)
    profiles = profile_segments(features, labels)
    named = describe(profiles, name_segments(profiles, previous))
    return SegmentedMonth(features, config, Z, tier, selection, kmeans, pipeline, labels, named)
