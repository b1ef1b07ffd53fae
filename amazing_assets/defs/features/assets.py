"""``user_features_rfm``: one row per pseudonymous customer as of each month's end."""

import dagster as dg
from pyspark.storagelevel import StorageLevel

from amazing_assets.defs.features.checks import (
    FEATURE_CHECK_SPECS,
    feature_results,
    feature_statistics,
    window_customers,
)
from amazing_assets.defs.features.features import (
    EVENT_INPUT_COLUMNS,
    PRODUCT_INPUT_COLUMNS,
    add_months,
    features_from_aggregates,
    first_seen_categories,
    window_plan,
)
from amazing_assets.defs.features.resources import FeatureWindowResource
from amazing_assets.defs.features.user_aggregates import (
    AGGREGATE_SCHEMA,
    CUSTOMERS_SCHEMA,
    FIRST_SEEN_SCHEMA,
    customer_aggregates,
    customers_per_as_of,
    first_seen,
)
from amazing_assets.defs.features.window_reads import (
    WindowReader,
    stored_purchaser_share,
    window_inputs,
)
from amazing_assets.lib.asset_options import (
    monthly_asset_options,
    preview_markdown,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource


# The window's earlier months are read from the warehouse, not declared as a partition mapping:
# with one, a rejected month would mark the next months' features "failed upstream" in every
# backfill, and one bad month would block three. A gap is reported instead (complete_window).
@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="spark_delta_io_manager",
    deps=["clean_events"],
    kinds={"spark", "delta"},
    group_name="features",
    check_specs=FEATURE_CHECK_SPECS,
)
@retry_only_transient
def user_features_rfm(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    quality: QualityResource,
    warehouse: WarehouseResource,
    feature_window: FeatureWindowResource,
):
    """Each customer's recency, frequency, spend and behaviour over the trailing months."""
    months, window = run_months(context), feature_window.months
    inputs = window_inputs(warehouse, months, window)
    gaps = inputs.gaps
    for month, missing in gaps.items():
        if missing:
            context.log.warning(
                f"user_features_rfm {month}: partial window, no clean events for {missing}; "
                "materialise those months, then re-run this one"
            )
    reader = WindowReader.open(spark.session(), warehouse, inputs)
    if reader.buckets is None:
        context.log.info("user_features_rfm: clean_events files name no bucket; shuffling")
    per_customer = reader.per_customer
    categories = first_seen_categories(
        per_customer(PRODUCT_INPUT_COLUMNS, first_seen, FIRST_SEEN_SCHEMA)
    )
    plan = window_plan(months, window, categories)
    aggregates = per_customer(EVENT_INPUT_COLUMNS, customer_aggregates(plan), AGGREGATE_SCHEMA)
    features = features_from_aggregates(aggregates, months, window)
    features = features.persist(StorageLevel.DISK_ONLY)  # a bounded heap (see clean_events)
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
            "window_months": window,
            "partial_window": any(gaps.values()),
            "missing_window_months": dg.MetadataValue.json(gaps),
            "preview": preview_markdown(features),
        },
    )
    yield from feature_results(
        stats,
        window_customers(
            per_customer(
                ("user_key", "month"), customers_per_as_of(plan.contributes_to), CUSTOMERS_SCHEMA
            ),
            months,
        ),
        {m: stored_purchaser_share(warehouse, add_months(m, -1)) for m in months},
        gaps,
        quality,
    )
