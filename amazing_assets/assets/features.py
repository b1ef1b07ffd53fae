"""``user_features_rfm``: one row per pseudonymous customer as of each month's end."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.storagelevel import StorageLevel

from amazing_assets.assets.common import preview_markdown, run_months
from amazing_assets.partitions import monthly_partitions
from amazing_assets.segmentation.features import compute_user_features
from amazing_assets.settings import load_settings

FEATURE_WINDOW_MONTHS = load_settings().feature_window_months


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
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
)
def user_features_rfm(
    context: dg.AssetExecutionContext, clean_events: DataFrame
) -> dg.Output[DataFrame]:
    """Each customer's recency, frequency, spend and behaviour over the trailing months."""
    months = run_months(context)
    features = compute_user_features(clean_events, months, window=FEATURE_WINDOW_MONTHS)
    features = features.persist(StorageLevel.MEMORY_AND_DISK)
    users = {r["month"]: r["count"] for r in features.groupBy("month").count().collect()}
    for month in months:
        context.log.info(
            f"user_features_rfm {month}: {users.get(month, 0):,} customers with features"
        )
    return dg.Output(
        features,
        metadata={
            "users": sum(users.values()),
            "users_by_month": dg.MetadataValue.json(users),
            "window_months": FEATURE_WINDOW_MONTHS,
            "preview": preview_markdown(features),
        },
    )
