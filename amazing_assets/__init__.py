"""Amazing Segments: marketplace event logs → clean per-user features → customer segments.

The Dagster code location lives in :mod:`amazing_assets.definitions`; pure logic (parsing,
cleaning rules, features, segmentation) lives in :mod:`amazing_assets.segmentation` and has no
Dagster imports.
"""
