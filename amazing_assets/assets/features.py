"""``user_features_rfm``: one row per pseudonymous customer as of each month's end."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.storagelevel import StorageLevel

from amazing_assets.assets.common import monthly_asset_options, preview_markdown, run_months
from amazing_assets.checks.features import (
    FEATURE_CHECK_SPECS,
    feature_results,
    feature_statistics,
    window_customers,
)
from amazing_assets.io.delta_tables import read_months, table_exists
from amazing_assets.resources.quality import QualityResource
from amazing_assets.resources.warehouse import WarehouseResource
from amazing_assets.segmentation.features import add_months, compute_user_features
from amazing_assets.settings import load_settings

FEATURE_WINDOW_MONTHS = load_settings().feature_window_months


@dg.asset(
    **monthly_asset_options(),
    io_manager_key="spark_delta_io_manager",
    ins={
        "clean_events": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-(FEATURE_WINDOW_MONTHS - 1),
                end_offset=0,
                allow_nonexistent_upstream_partitions=True,
            )
        )
    },
    kinds={"spark", "delta"},
    group_name="features",
    check_specs=FEATURE_CHECK_SPECS,
)
def user_features_rfm(
    context: dg.AssetExecutionContext,
    clean_events: DataFrame,
    quality: QualityResource,
    warehouse: WarehouseResource,
):
    """Each customer's recency, frequency, spend and behaviour over the trailing months."""
    months = run_months(context)
    features = compute_user_features(clean_events, months, window=FEATURE_WINDOW_MONTHS)
    features = features.persist(StorageLevel.MEMORY_AND_DISK)
    stats = feature_statistics(features)
    users = {m: s["rows"] for m, s in stats.items()}
    for month in months:
        context.log.info(
            f"user_features_rfm {month}: {users.get(month, 0):,} customers with features"
        )
    yield dg.Output(
        features,
        metadata={
            "users": sum(users.values()),
            "users_by_month": dg.MetadataValue.json(users),
            "window_months": FEATURE_WINDOW_MONTHS,
            "preview": preview_markdown(features),
        },
    )
    yield from feature_results(
        stats,
        window_customers(clean_events, months, FEATURE_WINDOW_MONTHS),
        {m: stored_purchaser_share(warehouse, add_months(m, -1)) for m in months},
        quality,
    )


def stored_purchaser_share(warehouse: WarehouseResource, month: str) -> float | None:
    location = warehouse.table("user_features_rfm")
    if not table_exists(location):
        return None
    frequency = read_months(location, [month], columns=["frequency"]).column("frequency")
    if len(frequency) == 0:
        return None
    return sum(1 for f in frequency.to_pylist() if f and f > 0) / len(frequency)
