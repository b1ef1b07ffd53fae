"""Months whose PCA keeps a different number of components (issue 11, item 1).

Before the fix, a 3-month run failed in ``kmeans_model`` (``Input X contains NaN``: October's
``pc_4`` was empty in the shared coordinates table) and month-by-month runs failed in
``pca_embedding`` (deltalake ``SchemaMismatchError``: the coordinates table had one more column).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.segments.assets import kmeans_model, pca_embedding
from amazing_assets.defs.segments.modeling import ModelingConfig, component_names, fit_embedding
from amazing_assets.defs.segments.profile_assets import cluster_profiles
from amazing_assets.lib.delta_tables import write_arrow_months
from amazing_assets.lib.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key_of
from amazing_assets.lib.storage import Location
from amazing_assets_tests.support.pipeline_run import definitions_for
from amazing_assets_tests.support.segment_data import generated_features
from panel_app import data as app_data

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MONTHS = ["2019-10", "2019-11", "2019-12"]
SELECTION = [pca_embedding, kmeans_model, cluster_profiles]


def flattened(features: pd.DataFrame) -> pd.DataFrame:
    """The same customers with engagement tied to purchases: one fewer independent direction."""
    out = features.copy()
    out["n_carts"] = np.round(out["n_views"] * 0.3)
    out["view_to_cart_rate"] = np.where(out["n_views"] > 0, 0.3, 0.0)
    return out


@pytest.fixture(scope="module")
def month_features(spark, tmp_path_factory) -> dict[str, pd.DataFrame]:
    base = generated_features(spark, tmp_path_factory.mktemp("features"), seed=5).drop(
        columns=["archetype"], errors="ignore"
    )
    by_month = {"2019-10": flattened(base), "2019-11": base, "2019-12": base.sample(frac=0.9)}
    dims = {
        m: len(component_names(fit_embedding(f, ModelingConfig())[0])) for m, f in by_month.items()
    }
    # The premise of the test: October's variance structure needs fewer components.
    assert dims["2019-10"] < dims["2019-11"], dims
    return by_month


def store_features(warehouse: Path, by_month: dict[str, pd.DataFrame]) -> None:
    frame = pd.concat([f.assign(month=m) for m, f in by_month.items()], ignore_index=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    write_arrow_months(Location.parse(str(warehouse / "user_features_rfm")), table, MONTHS)


def materialize(defs: dg.Definitions, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*defs.assets],
        selection=SELECTION,
        resources=defs.resources,
        raise_on_error=False,
        **kwargs,
    )


def assert_every_month_readable(warehouse: Path) -> None:
    for month in MONTHS:
        points = app_data.embedding(str(warehouse), month)
        assert len(points) > 0 and not points[["pc_1", "pc_2"]].isna().any().any()
        assert len(app_data.profiles(str(warehouse), month)) >= 3


def test_a_single_run_over_months_of_different_dimension_succeeds(tmp_path, month_features):
    defs = definitions_for(tmp_path, tmp_path / "landing")
    store_features(tmp_path / "warehouse", month_features)
    result = materialize(
        defs,
        tags={
            RANGE_START_TAG: partition_key_of(MONTHS[0]),
            RANGE_END_TAG: partition_key_of(MONTHS[-1]),
        },
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert_every_month_readable(tmp_path / "warehouse")


def test_month_by_month_runs_of_different_dimension_succeed(tmp_path, month_features):
    defs = definitions_for(tmp_path, tmp_path / "landing")
    store_features(tmp_path / "warehouse", month_features)
    for month in MONTHS:
        result = materialize(defs, partition_key=partition_key_of(month))
        assert result.success, (month, [e.message for e in result.all_events if e.is_failure])
    assert_every_month_readable(tmp_path / "warehouse")
