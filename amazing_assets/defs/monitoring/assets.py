"""``month_verdict`` (is the month comparable to the last?) and ``segment_alerts`` (who hears of
a segment's move)."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from amazing_assets.defs.features.resources import FeatureWindowResource
from amazing_assets.defs.monitoring.alerts import (
    HELD,
    NOT_SENT,
    SENT,
    AlertDeliveryError,
    alert_table,
    app_link,
    message,
    segment_moves,
)
from amazing_assets.defs.monitoring.facts import month_facts
from amazing_assets.defs.monitoring.resources import AlertResource
from amazing_assets.defs.monitoring.verdict import (
    COMPARABLE,
    VerdictRules,
    verdict_table,
    verdicts,
)
from amazing_assets.defs.segments.profile_assets import stored_month
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.checks import result, spec
from amazing_assets.lib.months import add_months
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource

VERDICT, ALERTS = "month_verdict", "segment_alerts"
VERDICT_CHECK_SPECS = [
    spec(
        "comparable_to_last_month",
        VERDICT,
        "days covered, volume, bots, duplicates, defects, category remaps and the feature "
        "window hold against last month (warning: changes may come from the data)",
    ),
]
ALERT_CHECK_SPECS = [
    spec("alerts_delivered", ALERTS, "every alert reached every configured sink"),
]


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    # Read from the warehouse, with the month before: a rejected earlier month must not fail
    # this one's dependency resolution in a backfill (it then reads as a first month).
    deps=["clean_events", "event_quarantine", "raw_events"],
    kinds={"spark", "pandas"},
    group_name="reporting",
    check_specs=VERDICT_CHECK_SPECS,
)
@retry_only_transient
def month_verdict(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    spark: SparkResource,
    feature_window: FeatureWindowResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Is this month comparable to the last: days covered, volume, bots, duplicates, defects,
    category remaps, the feature window; a change the data made is labelled as such."""
    months = run_months(context)
    facts, before = month_facts(spark.session(), warehouse, months, feature_window.months)
    judged = verdicts(facts, before, VerdictRules())
    table = verdict_table(judged)
    for verdict in judged:
        reasons = ", ".join(verdict.warnings) or "every aspect holds"
        context.log.info(f"month_verdict {verdict.month}: {verdict.verdict} ({reasons})")
    yield dg.Output(
        table,
        metadata={
            "verdicts": dg.MetadataValue.json({v.month: v.verdict for v in judged}),
            "findings": dg.MetadataValue.md(markdown_table(table.to_dict("records"), list(table))),
        },
    )
    warned = {v.month: v.warnings for v in judged if v.warnings}
    yield result(
        VERDICT, "comparable_to_last_month", not warned, {"data_causes": warned}, warn=True
    )


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    deps=["cluster_profiles"],
    kinds={"pandas"},
    group_name="reporting",
    check_specs=ALERT_CHECK_SPECS,
)
@retry_only_transient
def segment_alerts(
    context: dg.AssetExecutionContext,
    month_verdict: pd.DataFrame,
    warehouse: WarehouseResource,
    alerts: AlertResource,
):
    """Segments whose size or expected value moved past the threshold since last month, sent to
    the operator's webhook and file; held when the month is not comparable."""
    frames, failures = [], []
    sinks = alerts.sinks()
    months = run_months(context)
    current = stored_month(warehouse, "cluster_profiles", add_months(months[0], -1))
    for month in months:  # consecutive: each month's profiles are the next one's "before"
        previous, current = current, stored_month(warehouse, "cluster_profiles", month)
        found = [] if current is None else segment_moves(month, current, previous, alerts.rules())
        verdicts = month_verdict.loc[month_verdict["month"] == month, "verdict"]
        comparable = not verdicts.empty and verdicts.iloc[0] == COMPARABLE
        if not found or not comparable:
            if found:
                context.log.info(
                    f"segment_alerts {month}: {len(found)} move(s) held, the month is not "
                    "comparable to the last (see month_verdict)"
                )
            frames.append(alert_table(found, HELD))
            continue
        payload = message(month, found, app_link(alerts.app_url, month), alerts.language)
        status = SENT if sinks else NOT_SENT
        for sink in sinks:
            try:
                sink.send(payload)
            except (AlertDeliveryError, OSError) as error:
                status = NOT_SENT
                failures.append(f"{month} {sink.name}: {error}")
        context.log.info(f"segment_alerts {month}: {len(found)} alert(s), {status}")
        frames.append(alert_table(found, status))
    table = pd.concat(frames, ignore_index=True)
    table["month"] = table["month"].astype(object)
    yield dg.Output(
        table,
        metadata={
            "alerts": len(table),
            "sinks": ", ".join(s.name for s in sinks) or "none configured",
            "preview": dg.MetadataValue.md(markdown_table(table.to_dict("records"), list(table))),
        },
    )
    yield result(ALERTS, "alerts_delivered", not failures, {"failures": failures}, warn=True)
