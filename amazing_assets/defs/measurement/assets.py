"""``audience_exports`` / ``audience_export_log`` and ``action_outcomes``.

``audience_exports`` makes, for every segment of the month, the audience the app exports: each
customer marked ``target`` or ``control`` (see :mod:`.holdout`), with the export's id; the log
keeps one row per export (segment, month, action, share, sizes, when). ``action_outcomes``
compares target and control in the month after the export, as soon as that month's clean
events exist; until then each export reads ``waiting``.

A month that was not segmented has no audience and no outcome to measure: both assets still
materialise, carrying the segmentation's outcome (``status``, ``reason``, ``needed``, as
``kmeans_model`` stored it), so the run report says "not segmented: why" instead of "written".
"""

import dagster as dg
import pandas as pd
import pyarrow.compute as pc
from pydantic import Field

from amazing_assets.defs.measurement.audiences import build_audiences
from amazing_assets.defs.measurement.holdout import DEFAULT_CONTROL_SHARE
from amazing_assets.defs.measurement.outcomes import (
    DEFAULT_MINIMUM_EFFECT,
    OutcomeSettings,
    measure_exports,
)
from amazing_assets.defs.measurement.statistics import DEFAULT_CONFIDENCE, DEFAULT_POWER
from amazing_assets.defs.segments.assets import (
    ASSIGNMENTS,
    month_rows,
    status_metadata,
    stored_outcome,
)
from amazing_assets.defs.segments.outcomes import OUTCOME_TABLE, Outcome
from amazing_assets.lib.asset_options import (
    OWNERS,
    markdown_table,
    monthly_asset_options,
    rejected,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.delta_tables import (
    filtered_rows,
    month_row_counts,
    read_months,
    table_exists,
)
from amazing_assets.lib.model_io_manager import MonthlyModels
from amazing_assets.lib.months import add_months
from amazing_assets.lib.warehouse import WarehouseResource

AUDIENCES, EXPORT_LOG, OUTCOMES = "audience_exports", "audience_export_log", "action_outcomes"
CLEAN_EVENTS = "clean_events"
SEGMENTS = "kmeans_model"


def segmentation_outcome_of(warehouse: WarehouseResource, month: str) -> Outcome:
    """The outcome ``kmeans_model`` stored for ``month`` (``kmeans_model/outcome``; segmented
    when the month was stored before outcomes existed)."""
    location = warehouse.table(f"{SEGMENTS}/{OUTCOME_TABLE}")
    if not table_exists(location):
        return Outcome.from_frame(None)
    return Outcome.from_frame(read_months(location, [month]).to_pandas())


class ExportConfig(dg.Config):
    """How much of each audience is held out (settable per run, per segment)."""

    control_share: float = Field(
        default=DEFAULT_CONTROL_SHARE, description="share of every audience held out as control"
    )
    segment_shares: dict[str, float] = Field(
        default_factory=dict,
        description='a segment\'s own share, e.g. {"3": 0.2} (segment numbers as text)',
    )


class OutcomeConfig(dg.Config):
    """What a control group must be able to detect before a result is reported."""

    minimum_effect: float = Field(
        default=DEFAULT_MINIMUM_EFFECT,
        description="smallest rise of purchase rate to detect (absolute: 0.02 = 2 points)",
    )
    confidence: float = Field(default=DEFAULT_CONFIDENCE, description="interval level")
    power: float = Field(default=DEFAULT_POWER, description="power of the size calculation")


@dg.multi_asset(
    outs={
        AUDIENCES: dg.AssetOut(
            io_manager_key="model_io_manager",
            owners=OWNERS,
            kinds={"pandas"},
            group_name="measurement",
            description="Every segment's audience of the month, one row per customer: export "
            "id, segment, action, and group (target, or control: held out, not contacted).",
        ),
        EXPORT_LOG: dg.AssetOut(
            io_manager_key="model_io_manager",
            owners=OWNERS,
            kinds={"pandas"},
            group_name="measurement",
            description="One row per export: segment, month, action, control share, seed, "
            "sizes of both groups, and when it was made.",
        ),
    },
    **monthly_asset_options(code_version="1", owners=False),
)
@retry_only_transient
def audience_exports(
    context: dg.AssetExecutionContext,
    config: ExportConfig,
    kmeans_model: MonthlyModels,
    cluster_profiles: pd.DataFrame,
):
    """Audiences with a deterministic control group for every segment of the month."""
    audiences, logs, outcomes = [], [], {}
    for month in run_months(context):
        outcome = outcomes[month] = stored_outcome(kmeans_model[month])
        if not outcome.segmented:  # no segment, no audience: the month is replaced with none
            context.log.warning(f"audience_exports {month}: no audience, {outcome.sentence()}")
            continue
        assignments = kmeans_model[month].tables[ASSIGNMENTS][["user_key", "segment"]]
        try:
            rows, log = build_audiences(
                month,
                assignments,
                month_rows(cluster_profiles, month),
                config.control_share,
                config.segment_shares,
            )
        except ValueError as error:
            raise rejected(f"{month}: {error}") from error
        audiences.append(rows)
        logs.append(log)
        for entry in log.itertuples():
            context.log.info(
                f"audience_exports {month}: {entry.export_id} '{entry.segment_name}' "
                f"{entry.targets:,} targets, {entry.controls:,} controls "
                f"({entry.control_share:.0%} held out)"
            )
    status = status_metadata(outcomes)  # "not segmented: why" for the report, the UI
    if not logs:
        nothing = pd.DataFrame({"month": pd.Series(dtype=object)})
        yield dg.Output(nothing, output_name=AUDIENCES, metadata=status)
        yield dg.Output(nothing.copy(), output_name=EXPORT_LOG, metadata={"exports": 0, **status})
        return
    log = pd.concat(logs, ignore_index=True)
    shown = ["export_id", "segment_name", "action", "control_share", "targets", "controls"]
    yield dg.Output(pd.concat(audiences, ignore_index=True), output_name=AUDIENCES, metadata=status)
    yield dg.Output(
        log,
        output_name=EXPORT_LOG,
        metadata={
            "exports": len(log),
            **status,
            "log": dg.MetadataValue.md(markdown_table(log[shown].to_dict("records"), shown)),
        },
    )


def next_month_purchases(
    warehouse: WarehouseResource, month: str, user_keys: list[str]
) -> pd.DataFrame | None:
    """The exported customers' purchases in ``month`` (pyarrow, purchases only), or None when
    ``month`` has no clean events yet."""
    location = warehouse.table(CLEAN_EVENTS)
    if not table_exists(location) or not month_row_counts(location).get(month):
        return None
    keys = pc.field("user_key").isin(user_keys)
    rows = filtered_rows(
        location,
        [month],
        (pc.field("event_type") == "purchase") & keys,
        ["user_key", "session_key", "price"],
        ["event_type"],
    )
    return rows.to_pandas()


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    kinds={"pandas"},
    group_name="measurement",
    deps=[
        dg.AssetDep(
            CLEAN_EVENTS,
            # The export of month M is judged on month M+1's events.
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=1, end_offset=1, allow_nonexistent_upstream_partitions=True
            ),
        )
    ],
    # Re-measured by the automation sensor when the next month's clean events arrive.
    automation_condition=dg.AutomationCondition.eager(),
)
@retry_only_transient
def action_outcomes(
    context: dg.AssetExecutionContext,
    config: OutcomeConfig,
    audience_exports: pd.DataFrame,
    warehouse: WarehouseResource,
) -> dg.Output[pd.DataFrame]:
    """Per export: purchase rate, orders and revenue of target vs control the next month."""
    settings = OutcomeSettings(config.minimum_effect, config.confidence, config.power)
    frames, outcomes = [], {}
    for month in run_months(context):
        outcome = outcomes[month] = segmentation_outcome_of(warehouse, month)
        exports = audience_exports[audience_exports["month"] == month]
        if exports.empty or "user_key" not in exports:  # a month that was not segmented
            context.log.warning(
                f"action_outcomes {month}: no audience was exported ({outcome.sentence()})"
            )
            continue
        after = add_months(month, 1)
        purchases = next_month_purchases(warehouse, after, exports["user_key"].tolist())
        measured = measure_exports(exports, purchases, after, settings)
        frames.append(measured)
        for row in measured.itertuples():
            context.log.info(
                f"action_outcomes {month}: {row.export_id} {row.status}"
                + (f" ({row.verdict})" if row.verdict else "")
            )
    status = status_metadata(outcomes)
    if not frames:
        return dg.Output(
            pd.DataFrame({"month": pd.Series(dtype=object)}), metadata={"exports": 0, **status}
        )
    result = pd.concat(frames, ignore_index=True)
    shown = ["export_id", "segment_name", "status", "verdict", "targets", "controls"]
    shown += ["purchase_rate_diff", "purchase_rate_low", "purchase_rate_high", "controls_needed"]
    table = result[shown].astype(object).where(result[shown].notna(), None)
    return dg.Output(
        result,
        metadata={
            **status,
            "statuses": dg.MetadataValue.json(result["status"].value_counts().to_dict()),
            "outcomes": dg.MetadataValue.md(markdown_table(table.to_dict("records"), shown)),
        },
    )


outcomes_sensor = dg.AutomationConditionSensorDefinition(
    "action_outcomes_automation",
    target=[OUTCOMES],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Measures a month's exports again once the next month's clean events exist.",
)
