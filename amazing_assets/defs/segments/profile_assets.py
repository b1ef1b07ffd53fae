"""``cluster_profiles`` and ``segment_migration``: named segments and how customers move."""

import dagster as dg
import pandas as pd

from amazing_assets.defs.features.resources import FeatureWindowResource
from amazing_assets.defs.features.window_reads import window_inputs
from amazing_assets.defs.segments.assets import (
    ASSIGNMENTS,
    IDENTITY,
    month_rows,
    status_metadata,
    stored_outcome,
)
from amazing_assets.defs.segments.chain import profile_stage
from amazing_assets.defs.segments.checks import PROFILE_CHECK_SPECS, profile_results
from amazing_assets.defs.segments.identity import (
    SEGMENT_ID,
    first_ids,
    identity_from_table,
    kept_names,
)
from amazing_assets.defs.segments.identity_migration import identity_flows, labelled_assignments
from amazing_assets.defs.segments.tracking import with_identity
from amazing_assets.defs.segments.value_summary import segment_value, with_value_actions
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    rejected,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.checks import complete_window_result
from amazing_assets.lib.delta_tables import read_months, table_exists
from amazing_assets.lib.model_io_manager import MonthlyModels
from amazing_assets.lib.months import add_months
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource


def stored_month(warehouse: WarehouseResource, table: str, month: str) -> pd.DataFrame | None:
    """A month of a warehouse table, or None when it was never materialised."""
    location = warehouse.table(table)
    if not table_exists(location):
        return None
    frame = read_months(location, [month]).to_pandas()
    return frame.drop(columns="month") if len(frame) else None


@dg.asset(
    **monthly_asset_options(code_version="2"),  # 2: purity per named segment
    io_manager_key="model_io_manager",
    # customer_value is read from the warehouse (it may be absent: profiles then carry no value).
    deps=["customer_value"],
    kinds={"pandas"},
    group_name="segments",
    check_specs=PROFILE_CHECK_SPECS,
)
@retry_only_transient
def cluster_profiles(
    context: dg.AssetExecutionContext,
    kmeans_model: MonthlyModels,
    user_features_rfm: pd.DataFrame,
    warehouse: WarehouseResource,
    quality: QualityResource,
    feature_window: FeatureWindowResource,
    spark: SparkResource,
):
    """Per segment: size, value, typical behaviour, a business name and the marketing action."""
    spark.release_when_done(context)
    frames, outcomes = [], {}
    months = run_months(context)
    before_run = stored_month(warehouse, "cluster_profiles", add_months(months[0], -1))
    previous = before_run
    for month in months:
        outcome = outcomes[month] = stored_outcome(kmeans_model[month])
        if not outcome.segmented:  # no segment to profile; the next month compares with ours
            context.log.warning(f"cluster_profiles {month}: {outcome.sentence()}")
            previous = None
            continue
        features = month_rows(user_features_rfm, month)
        assignments = kmeans_model[month].tables[ASSIGNMENTS]
        joined = features.merge(assignments[["user_key", "segment"]], on="user_key", how="inner")
        if len(joined) != len(features):
            raise rejected(
                f"{month}: {len(features) - len(joined)} customers have features but no segment"
            )
        tables = kmeans_model[month].tables
        identity = (
            identity_from_table(tables[IDENTITY])
            if IDENTITY in tables
            else first_ids(sorted(int(s) for s in assignments["segment"].unique()))
        )
        # Names follow the segment's identity; a previous month stored without ids falls back
        # to the z-profile continuity.
        identified = previous is not None and SEGMENT_ID in previous
        kept = kept_names(identity.ids, previous) if identified else None
        described = profile_stage(joined, joined["segment"].to_numpy(), previous, kept)
        described = with_identity(described, identity, previous if identified else None)
        value = stored_month(warehouse, "customer_value", month)
        described = with_value_actions(described, segment_value(assignments, value))
        frames.append(described.assign(month=month))
        previous = described
        for row in described.itertuples():
            context.log.info(
                f"cluster_profiles {month}: segment {row.segment} '{row.name}' "
                f"{row.size:,} customers ({row.share:.1%}) → {row.offer}; "
                f"value: {row.value_priority}; id {row.segment_id} ({row.identity}, "
                f"centre shift {row.centre_shift:.3f}, member overlap {row.member_overlap:.3f})"
            )
    gaps = window_inputs(warehouse, months, feature_window.months).gaps
    if not frames:  # no month of the run was segmented: its months are replaced with no row
        result = pd.DataFrame({"month": pd.Series(dtype=object)})
        yield dg.Output(
            result,
            metadata={
                "segments": 0,
                **status_metadata(outcomes),
                "partial_window": any(gaps.values()),
                "missing_window_months": dg.MetadataValue.json(gaps),
            },
        )
        yield from profile_results(result, None, quality)
        yield complete_window_result("cluster_profiles", gaps)
        return
    result = pd.concat(frames, ignore_index=True)
    latest = frames[-1]
    summary = latest[
        [
            "segment",
            SEGMENT_ID,
            "name",
            "purity",
            "identity",
            "previous_name",
            "centre_shift",
            "member_overlap",
            "size",
            "share",
            "revenue_share",
            "expected_revenue_90d",
            "churn_risk",
            "value_priority",
            "offer",
        ]
    ]
    yield dg.Output(
        result,
        metadata={
            "segments": len(latest),
            **status_metadata(outcomes),
            # Segments of a window with a missing month describe partial behaviour.
            "partial_window": any(gaps.values()),
            "missing_window_months": dg.MetadataValue.json(gaps),
            "names": dg.MetadataValue.json(latest["name"].tolist()),
            "profiles": dg.MetadataValue.md(
                markdown_table(summary.round(4).to_dict("records"), list(summary.columns))
            ),
        },
    )
    yield from profile_results(result, before_run, quality)
    yield complete_window_result("cluster_profiles", gaps)


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    kinds={"pandas"},
    group_name="segments",
)
@retry_only_transient
def segment_migration(
    context: dg.AssetExecutionContext,
    kmeans_model: MonthlyModels,
    cluster_profiles: pd.DataFrame,
    warehouse: WarehouseResource,
) -> dg.Output[pd.DataFrame]:
    """Customers moving between segments since last month (for a Sankey view).

    A customer moved only when their segment *identity* (``segment_id``) changed; a segment that
    kept its id under a new name is a definition change (``moved`` false, ``renamed`` true).
    """
    frames, previous, outcomes = [], None, {}
    for month in run_months(context):
        outcome = outcomes[month] = stored_outcome(kmeans_model[month])
        if not outcome.segmented:  # nobody is in a segment: no flow, and none out next month
            context.log.warning(f"segment_migration {month}: {outcome.sentence()}")
            previous = None
            continue
        current = labelled_assignments(
            kmeans_model[month].tables[ASSIGNMENTS], month_rows(cluster_profiles, month)
        )
        if previous is None:
            before = stored_month(warehouse, "kmeans_model/assignments", add_months(month, -1))
            before_names = stored_month(warehouse, "cluster_profiles", add_months(month, -1))
            if before is not None and before_names is not None:
                previous = labelled_assignments(before, before_names)
        matrix = identity_flows(previous, current)
        frames.append(matrix.assign(month=month))
        previous = current
        moved = int(matrix.loc[matrix["moved"], "customers"].sum())
        context.log.info(
            f"segment_migration {month}: {int(matrix['customers'].sum()):,} customers counted, "
            f"{moved:,} changed segment identity"
        )
    if not frames:
        return dg.Output(
            pd.DataFrame({"month": pd.Series(dtype=object)}), metadata=status_metadata(outcomes)
        )
    result = pd.concat(frames, ignore_index=True)
    latest = frames[-1].drop(columns="month")
    return dg.Output(
        result,
        metadata={
            **status_metadata(outcomes),
            "flows": dg.MetadataValue.md(
                markdown_table(latest.to_dict("records"), list(latest.columns))
            ),
        },
    )
