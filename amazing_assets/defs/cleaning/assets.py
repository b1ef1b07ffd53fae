"""``clean_events`` and ``event_quarantine``: cleaning rules, pseudonymisation, accounting."""

from collections.abc import Callable
from dataclasses import asdict

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from amazing_assets.defs.cleaning.checks import CLEAN_CHECK_SPECS, clean_results
from amazing_assets.defs.cleaning.classification import (
    CleaningRules,
)
from amazing_assets.defs.cleaning.clean_tables import (
    EXPORT_COLUMNS,
    kept_violations,
)
from amazing_assets.defs.cleaning.cleaning_pass import CleaningPass
from amazing_assets.defs.ingestion.rejected_events import (
    examples_of,
    record_rejected_rows,
    reject_months,
)
from amazing_assets.defs.ingestion.rejected_months import rejection_message
from amazing_assets.lib.asset_options import (
    OWNERS,
    markdown_table,
    monthly_asset_options,
    retry_only_transient,
    run_months,
    stored_preview,
)
from amazing_assets.lib.delta_tables import month_row_counts
from amazing_assets.lib.io_managers import table_metadata
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource


def raw_row_counts(warehouse: WarehouseResource, months: list[str]) -> dict[str, int]:
    """Rows of ``raw_events`` per month, from the Delta log's file statistics (no data read)."""
    counts = month_row_counts(warehouse.table("raw_events"))
    return {m: counts.get(m, 0) for m in months}


def accounting(counts: dict[tuple[str, str | None], int], months: list[str]) -> list[dict]:
    """Per month: rows in, kept, dropped by reason; ``balanced`` iff in = kept + Σ dropped."""
    rows = []
    for month in months:
        by_reason = {r: n for (m, r), n in counts.items() if m == month and r is not None}
        kept = counts.get((month, None), 0)
        rows.append(
            {
                "month": month,
                "rows_in": kept + sum(by_reason.values()),
                "kept": kept,
                "dropped": sum(by_reason.values()),
                "dropped_by_reason": by_reason,
            }
        )
    return rows


def month_problems(
    report: list[dict], raw_rows: dict[str, int], min_kept_share: float
) -> dict[str, str]:
    """month → why it cannot be cleaned: rows lost without a reason, or too few rows kept."""
    problems = {}
    for row in report:
        month, rows_in = row["month"], raw_rows.get(row["month"], 0)
        if rows_in != row["rows_in"]:
            problems[month] = (
                f"accounting does not balance: {rows_in:,} raw rows but {row['rows_in']:,} kept "
                "or dropped (a defect of the pipeline: report it)"
            )
        elif row["rows_in"] and row["kept"] / row["rows_in"] < min_kept_share:
            problems[month] = (
                f"cleaning keeps {row['kept']:,} of {row['rows_in']:,} rows "
                f"({row['kept'] / row['rows_in']:.1%}); at least {min_kept_share:.0%} must remain"
            )
    return problems


def refuse_unusable_months(
    context: dg.AssetExecutionContext,
    classify: Callable[[], DataFrame],
    report: list[dict],
    raw_rows: dict[str, int],
    warehouse: WarehouseResource,
    quality: QualityResource,
) -> None:
    """Reject months the rules cannot use, before clean_events or the quarantine change.

    raw_events was replaced earlier in this run: it is rolled back, so every table of a
    rejected month stays at its previous version. The dropped rows go to ``rejected_events``.
    """
    problems = month_problems(report, raw_rows, quality.min_kept_share)
    if not problems:
        return
    bad = sorted(problems)
    classified = classify()  # the rows again, classified without tokens: a rare path
    dropped = classified.where(F.col("month").isin(bad) & F.col("drop_reason").isNotNull())
    line = F.coalesce(
        F.col("_raw_line"), F.concat_ws(",", *[F.col(c).cast("string") for c in EXPORT_COLUMNS])
    )
    table_uri = record_rejected_rows(
        context, warehouse, dropped, bad, "clean_events", reason=F.col("drop_reason"), line=line
    )
    by_month = {r["month"]: r for r in report}
    per_file = (
        classified.where(F.col("month").isin(bad))
        .groupBy("month", "_source_file")
        .agg(F.count("*").alias("rows"), F.count("drop_reason").alias("dropped"))
        .collect()
    )
    messages = {}
    for month in bad:
        codes = by_month[month]["dropped_by_reason"]
        top = sorted(codes, key=lambda c: -codes[c])
        messages[month] = rejection_message(
            month=month,
            problem=problems[month],
            files={
                r["_source_file"]: (r["rows"], r["dropped"])
                for r in per_file
                if r["month"] == month
            },
            codes=codes,
            examples=examples_of(dropped.where(F.col("month") == month), top, "drop_reason", line),
            rows_table=table_uri,
            threshold_setting="the quality resource's min_kept_share",
        )
    raise reject_months(context, warehouse, messages, roll_back=("raw_events",))


def dropped_totals(report: list[dict]) -> dict[str, int]:
    """Rows dropped per reason over the run's months."""
    totals: dict[str, int] = {}
    for row in report:
        for reason, n in row["dropped_by_reason"].items():
            totals[reason] = totals.get(reason, 0) + n
    return totals


def clean_metadata(
    report: list[dict], rules: CleaningRules, warehouse: WarehouseResource, months: list[str]
) -> dict:
    """What clean_events' materialisation says: the accounting per month, the rules, a preview."""
    location = warehouse.table("clean_events")
    per_month = [
        {
            **r,
            "dropped_by_reason": ", ".join(
                f"{k}={v:,}" for k, v in sorted(r["dropped_by_reason"].items())
            ),
        }
        for r in report
    ]
    return {
        "rows_in": sum(r["rows_in"] for r in report),
        "rows_kept": sum(r["kept"] for r in report),
        "rows_dropped": sum(r["dropped"] for r in report),
        "dropped_by_reason": dg.MetadataValue.json(dropped_totals(report)),
        "cleaning_rules": dg.MetadataValue.json(asdict(rules)),
        "per_month": dg.MetadataValue.md(
            markdown_table(per_month, ["month", "rows_in", "kept", "dropped", "dropped_by_reason"])
        ),
        "preview": stored_preview(location, months),
        **table_metadata(location, months),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "clean_events",
            description="Validated, deduplicated, bot-free events with pseudonymous keys.",
            deps=["raw_events"],
            kinds={"spark", "delta"},
            group_name="events",
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "event_quarantine",
            description="Rows removed from clean_events, each with its reason code (raw zone).",
            deps=["raw_events"],
            kinds={"spark", "delta"},
            group_name="events",
            owners=OWNERS,
        ),
    ],
    check_specs=CLEAN_CHECK_SPECS,
    **monthly_asset_options(code_version="1", owners=False),
    can_subset=False,
)
@retry_only_transient
def clean_events(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    pseudonymization_key: PseudonymizationKeyResource,
    quality: QualityResource,
    warehouse: WarehouseResource,
):
    """Apply the cleaning rules of docs/pipeline.md and pseudonymise identifiers; count every drop.

    One pass (:mod:`.cleaning_write`): the tasks that classify a month's rows
    also pseudonymise them, write both tables' files and count the outcomes. Both tables are
    committed only when the accounting holds and the month keeps enough rows; otherwise the files
    are deleted and the month is refused.
    """
    key = pseudonymization_key.key_bytes()  # fail before any Spark work when the key is missing
    months = run_months(context)
    # Rows in come from the table's commit log (numRecords of its files): independent of the
    # rules, so the accounting identity is a real check.
    raw_by_month = raw_row_counts(warehouse, months)
    rules = CleaningRules()  # code-owned like the quality gates; shown in the metadata
    run = CleaningPass.plan(spark.session(), warehouse, months, rules, raw_by_month)
    writers, staged = run.stage(warehouse, key)
    messages = {"clean_events": staged.clean, "event_quarantine": staged.quarantine}
    counts = {(g["month"], g["drop_reason"]): g["count"] for g in staged.groups}
    report = accounting(counts, months)
    try:
        # A refused month's dropped rows are classified again (without tokens) for
        # rejected_events: a rare path, so the common one keeps no copy of the rows.
        refuse_unusable_months(context, run.classified, report, raw_by_month, warehouse, quality)
    except BaseException:
        for name, writer in writers.items():
            writer.abort([messages[name]])
        raise
    for row in report:
        context.log.info(
            f"clean_events {row['month']}: {row['rows_in']:,} in, {row['kept']:,} kept, "
            f"{row['dropped']:,} dropped {row['dropped_by_reason']}"
        )
    for name, writer in writers.items():
        writer.commit([messages[name]])
    yield dg.MaterializeResult(
        asset_key="clean_events", metadata=clean_metadata(report, rules, warehouse, months)
    )
    yield dg.MaterializeResult(
        asset_key="event_quarantine",
        metadata={
            "rows_by_reason": dg.MetadataValue.json(dropped_totals(report)),
            **table_metadata(warehouse.table("event_quarantine"), months),
        },
    )
    yield from clean_results(
        report, raw_by_month, kept_violations(staged.groups, staged.duplicates), quality
    )
