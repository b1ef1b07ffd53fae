"""``user_features_rfm``: one row per pseudonymous customer as of each month's end."""

from dataclasses import dataclass

import dagster as dg
from pyspark.storagelevel import StorageLevel

from amazing_assets.assets.common import (
    monthly_asset_options,
    preview_markdown,
    retry_only_transient,
    run_months,
)
from amazing_assets.checks.features import (
    FEATURE_CHECK_SPECS,
    feature_results,
    feature_statistics,
    window_customers,
)
from amazing_assets.io.buckets import files_by_bucket, per_customer_frame
from amazing_assets.io.delta_tables import month_row_counts, read_months, table_exists
from amazing_assets.resources.features import FeatureWindowResource
from amazing_assets.resources.quality import QualityResource
from amazing_assets.resources.spark import SparkResource
from amazing_assets.resources.warehouse import WarehouseResource
from amazing_assets.segmentation.customer_buckets import bucket_count
from amazing_assets.segmentation.features import (
    EVENT_INPUT_COLUMNS,
    PRODUCT_INPUT_COLUMNS,
    add_months,
    features_from_aggregates,
    first_seen_categories,
    window_gaps,
    window_months,
    window_plan,
)
from amazing_assets.segmentation.user_aggregates import (
    AGGREGATE_SCHEMA,
    CUSTOMERS_SCHEMA,
    FIRST_SEEN_SCHEMA,
    customer_aggregates,
    customers_per_as_of,
    first_seen,
)
from amazing_assets.sensors import landing_signatures


@dataclass(frozen=True)
class WindowInputs:
    months: list[str]
    """Every month the run's windows read."""
    gaps: dict[str, list[str]]
    """Each as-of month's window months lacking events."""
    aggregation_tasks: int
    """Tasks for the per-customer aggregation, sized to the events the windows hold."""


def window_inputs(warehouse: WarehouseResource, months: list[str], window: int) -> WindowInputs:
    """What the run's windows read, from the clean_events commit log (no data read)."""
    clean = warehouse.table("clean_events")
    counts = month_row_counts(clean) if table_exists(clean) else {}
    with_events = {m for m, n in counts.items() if n}
    with_exports = set(landing_signatures(warehouse.landing()))
    # An event counts once for each as-of month whose window holds it.
    events = sum(counts.get(w, 0) for m in months for w in window_months(m, window))
    return WindowInputs(
        months=sorted({w for m in months for w in window_months(m, window)}),
        gaps={m: window_gaps(m, window, with_events, with_exports) for m in months},
        aggregation_tasks=bucket_count(events),
    )


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
    needed, gaps = inputs.months, inputs.gaps
    for month, missing in gaps.items():
        if missing:
            context.log.warning(
                f"user_features_rfm {month}: partial window, no clean events for {missing}; "
                "materialise those months, then re-run this one"
            )
    session, table = spark.session(), warehouse.table("clean_events")
    # Each task reads only its columns of whole customers' files: a bucket's files when the
    # files carry their bucket (clean_events writes them so), else after a shuffle.
    buckets = files_by_bucket(table, needed)
    if buckets is None:
        context.log.info("user_features_rfm: clean_events files name no bucket; shuffling")

    def per_customer(columns: tuple[str, ...], per_task, schema):
        return per_customer_frame(
            session,
            table,
            needed,
            buckets,
            list(columns),
            per_task,
            schema,
            customer_column="user_key",
            partitions=inputs.aggregation_tasks,
        )

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


def stored_purchaser_share(warehouse: WarehouseResource, month: str) -> float | None:
    location = warehouse.table("user_features_rfm")
    if not table_exists(location):
        return None
    frequency = read_months(location, [month], columns=["frequency"]).column("frequency")
    if len(frequency) == 0:
        return None
    return sum(1 for f in frequency.to_pylist() if f and f > 0) / len(frequency)
