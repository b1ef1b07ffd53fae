"""``clean_events`` and ``event_quarantine``: cleaning rules, pseudonymisation, accounting."""

from dataclasses import asdict

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from amazing_assets.assets.common import (
    OWNERS,
    markdown_table,
    monthly_asset_options,
    preview_markdown,
    python_tasks,
    run_months,
)
from amazing_assets.assets.rejections import examples_of, record_rejected_rows, reject_months
from amazing_assets.checks.events import CLEAN_CHECK_SPECS, clean_results
from amazing_assets.io.delta_tables import month_row_counts
from amazing_assets.io.io_managers import read_spark
from amazing_assets.resources.pseudonymization import PseudonymizationKeyResource
from amazing_assets.resources.quality import QualityResource
from amazing_assets.resources.warehouse import WarehouseResource
from amazing_assets.segmentation.cleaning import (
    EXPORT_COLUMNS,
    PRICE_INPUT_COLUMNS,
    CleaningRules,
    classify_events,
    clean_view,
    quarantine_view,
)
from amazing_assets.segmentation.rejection import rejection_message
from amazing_assets.segmentation.schema import EVENT_TYPES


def row_fingerprint(columns: list[str]) -> list:
    """Three columns that are equal for identical rows: two 64-bit hashes and a null mask.

    Grouping by this instead of by every column shuffles ~24 bytes a row instead of the whole
    row. Identical rows always share a fingerprint, so a duplicate is never missed; two
    different rows sharing one (a 128-bit collision) would only raise a false alarm. The null
    mask keeps ``(null, "x")`` and ``("x", null)`` apart (Spark's hashes skip nulls).
    """
    null_mask = sum(
        (F.col(c).isNull().cast("long") * (1 << i) for i, c in enumerate(columns)), F.lit(0)
    )
    return [
        F.xxhash64(*columns).alias("_h1"),
        F.xxhash64(*reversed(columns)).alias("_h2"),
        null_mask.alias("_nulls"),
    ]


VIOLATIONS = ("null_keys", "bad_types", "negative_prices")
"""What the clean_events checks look for besides duplicates; counted per outcome group."""


def outcome_groups(classified: DataFrame) -> list[dict]:
    """Rows per (month, ``drop_reason``), with the check violations counted in each group: ONE
    pass over the classified rows serves the accounting and the checks (the kept rows are the
    group whose reason is null)."""
    return [
        r.asDict()
        for r in classified.groupBy("month", "drop_reason")
        .agg(
            F.count("*").alias("count"),
            F.sum((F.col("user_id").isNull() | F.col("user_session").isNull()).cast("long")).alias(
                "null_keys"
            ),
            F.sum((~F.col("event_type").isin(*EVENT_TYPES)).cast("long")).alias("bad_types"),
            F.sum((F.col("price") < 0).cast("long")).alias("negative_prices"),
        )
        .collect()
    ]


def kept_violations(classified: DataFrame, groups: list[dict]) -> dict[str, int]:
    """What the clean_events checks look for, on the kept rows: the counts of
    :func:`outcome_groups`, and one duplicate scan (rows sharing a fingerprint)."""
    kept = [g for g in groups if g["drop_reason"] is None]
    duplicates = (
        classified.where(F.col("drop_reason").isNull())
        .groupBy("month", *row_fingerprint(EXPORT_COLUMNS))
        .count()
        .where("count > 1")
        .agg(F.sum(F.col("count") - 1).alias("extra"))
        .first()["extra"]  # type: ignore[index]  # a global aggregate always has one row
    )
    return {k: sum(int(g[k] or 0) for g in kept) for k in VIOLATIONS} | {
        "duplicates": int(duplicates or 0)
    }


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
    classified: DataFrame,
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
    dropped = classified.where(F.col("month").isin(bad) & F.col("drop_reason").isNotNull())
    line = F.coalesce(
        F.col("_raw_line"), F.concat_ws(",", *[F.col(c).cast("string") for c in EXPORT_COLUMNS])
    )
    table_uri = record_rejected_rows(
        warehouse, dropped, bad, "clean_events", reason=F.col("drop_reason"), line=line
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


@dg.multi_asset(
    outs={
        "clean_events": dg.AssetOut(
            description="Validated, deduplicated, bot-free events with pseudonymous keys.",
            io_manager_key="spark_delta_io_manager",
            kinds={"spark", "delta"},
            group_name="events",
            owners=OWNERS,
        ),
        "event_quarantine": dg.AssetOut(
            description="Rows removed from clean_events, each with its reason code (raw zone).",
            io_manager_key="spark_delta_io_manager",
            kinds={"spark", "delta"},
            group_name="events",
            owners=OWNERS,
        ),
    },
    ins={"raw_events": dg.AssetIn("raw_events")},
    check_specs=CLEAN_CHECK_SPECS,
    **monthly_asset_options(code_version="1", owners=False),
    can_subset=False,
)
def clean_events(
    context: dg.AssetExecutionContext,
    raw_events: DataFrame,
    pseudonymization_key: PseudonymizationKeyResource,
    quality: QualityResource,
    warehouse: WarehouseResource,
):
    """Apply the cleaning rules of DESIGN §5 and pseudonymise identifiers; count every drop."""
    key = pseudonymization_key.key_bytes()  # fail before any Spark work when the key is missing
    months = run_months(context)
    # The rules read the raw rows twice (category medians, then one shuffle by customer for all
    # the other rules), straight from the table: caching them would cost more than the second
    # read and hold a month of events in memory. Rows in come from the table's commit log
    # (numRecords of its files): independent of the rules, so the accounting identity is a real
    # check.
    raw_by_month = raw_row_counts(warehouse, months)
    rules = CleaningRules()  # code-owned like the quality gates; shown in the metadata
    prices = read_spark(
        raw_events.sparkSession,
        warehouse.table("raw_events"),
        months,
        columns=list(PRICE_INPUT_COLUMNS),
    )
    # On disk only: a month of classified rows does not fit the driver's heap at real size, and
    # with MEMORY_AND_DISK Spark copies each spilled block back into the heap as it is read (one
    # buffer per block: a 42 M-event month died of it, "Java heap space" in
    # maybeCacheDiskBytesInMemory). Disk blocks stream; the OS page cache keeps small months fast.
    classified = classify_events(
        raw_events,
        rules,
        prices=prices,
        months=months,
        partitions=python_tasks(sum(raw_by_month.values())),
        key=key,
    ).persist(StorageLevel.DISK_ONLY)
    try:
        groups = outcome_groups(classified)
        counts = {(g["month"], g["drop_reason"]): g["count"] for g in groups}
        report = accounting(counts, months)
        refuse_unusable_months(context, classified, report, raw_by_month, warehouse, quality)
        for row in report:
            context.log.info(
                f"clean_events {row['month']}: {row['rows_in']:,} in, {row['kept']:,} kept, "
                f"{row['dropped']:,} dropped {row['dropped_by_reason']}"
            )
        clean = clean_view(classified)
        quarantine = quarantine_view(classified)
        dropped_by_reason: dict[str, int] = {}
        for row in report:
            for reason, n in row["dropped_by_reason"].items():
                dropped_by_reason[reason] = dropped_by_reason.get(reason, 0) + n
        yield dg.Output(
            clean,
            output_name="clean_events",
            metadata={
                "rows_in": sum(r["rows_in"] for r in report),
                "rows_kept": sum(r["kept"] for r in report),
                "rows_dropped": sum(r["dropped"] for r in report),
                "dropped_by_reason": dg.MetadataValue.json(dropped_by_reason),
                "cleaning_rules": dg.MetadataValue.json(asdict(rules)),
                "per_month": dg.MetadataValue.md(
                    markdown_table(
                        [
                            {
                                **r,
                                "dropped_by_reason": ", ".join(
                                    f"{k}={v:,}" for k, v in sorted(r["dropped_by_reason"].items())
                                ),
                            }
                            for r in report
                        ],
                        ["month", "rows_in", "kept", "dropped", "dropped_by_reason"],
                    )
                ),
                "preview": preview_markdown(clean),
            },
        )
        yield dg.Output(
            quarantine,
            output_name="event_quarantine",
            metadata={
                "rows": sum(r["dropped"] for r in report),
                "rows_by_reason": dg.MetadataValue.json(dropped_by_reason),
            },
        )
        yield from clean_results(report, raw_by_month, kept_violations(classified, groups), quality)
    finally:
        # Outputs are written as they are yielded, so the cached rows can go now; and a failed
        # attempt must not leave a month of rows cached in the heap for the retry (a 42 M-event
        # retry ran out of memory that way).
        classified.unpersist()
