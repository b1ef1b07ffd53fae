"""A failed blocking check on clean_events stops the month's downstream assets, and says why."""

import dagster as dg
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.resources.quality import QualityResource
from amazing_assets.settings import load_settings

pytestmark = pytest.mark.slow


def test_kept_share_failure_blocks_features_and_explains(tmp_path, spark):
    generate_month(
        GenerationSpec(month="2019-10", events=8_000, users=800, seed=4), tmp_path / "landing"
    )
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": str(tmp_path / "landing"),
            "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
        }
    )
    defs = build_definitions(settings)
    # Operators tightened the bar: any dropped row now fails the blocking check.
    result = dg.materialize(
        [*defs.assets],  # the whole chain, as a backfill from the UI would run it
        partition_key="2019-10-01",
        resources={**defs.resources, "quality": QualityResource(min_kept_share=0.9999)},
        raise_on_error=False,
    )
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["kept_share"].passed
    assert checks["kept_share"].severity == dg.AssetCheckSeverity.ERROR
    metadata = checks["kept_share"].metadata
    assert metadata["threshold"].value == 0.9999
    assert set(metadata["dropped_by_reason"].value["2019-10"]) >= {"bot_user", "cart_burst"}
    assert "cleaning kept too few rows in ['2019-10']" in checks["kept_share"].description
    materialized = {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert {"raw_events", "clean_events"} <= materialized
    assert not materialized & {
        "user_features_rfm",
        "pca_embedding",
        "kmeans_model",
        "cluster_profiles",
    }
