"""Segments' definitions: embedding, model, profiles and migration."""

import dagster as dg

from amazing_assets.defs.segments.assets import kmeans_model, pca_embedding
from amazing_assets.defs.segments.profile_assets import cluster_profiles, segment_migration


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[pca_embedding, kmeans_model, cluster_profiles, segment_migration])
