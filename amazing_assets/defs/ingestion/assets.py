"""``raw_events``: the month's landing files as a typed table; nothing dropped."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from amazing_assets.defs.ingestion.checks import RAW_CHECK_SPECS, raw_results
from amazing_assets.defs.ingestion.erased_customers import erased_customers
from amazing_assets.defs.ingestion.landing import LandingFile, LandingFormatError, list_month_files
from amazing_assets.defs.ingestion.landing_ingest import stage_months
from amazing_assets.defs.ingestion.landing_source import FORMAT_NAME as LANDING_FORMAT
from amazing_assets.defs.ingestion.landing_source import landing_read_error, register_landing_source
from amazing_assets.defs.ingestion.rejected_events import (
    examples_of,
    record_rejected_rows,
    reject_months,
)
from amazing_assets.defs.ingestion.rejected_months import rejection_message
from amazing_assets.defs.ingestion.suppression import (
    ERASED_CUSTOMER,
    SuppressionFilter,
    suppressed_digests,
)
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    rejected,
    retry_only_transient,
    run_months,
    stored_preview,
)
from amazing_assets.lib.delta_source import DeltaWriter, arrow_schema_for
from amazing_assets.lib.delta_tables import month_row_counts, table_exists
from amazing_assets.lib.io_managers import table_metadata
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.months import add_months
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.storage import LOCATION_OPTION, Location
from amazing_assets.lib.warehouse import WarehouseResource


def read_landing(
    spark,
    landing: Location,
    files: list[LandingFile],
    month: str,
) -> DataFrame:
    """The month's exports as a Spark DataFrame (typed, with defect codes), plus provenance:
    the shape of ``raw_events``."""
    register_landing_source(spark)
    frame = (
        spark.read.format(LANDING_FORMAT)
        .option(LOCATION_OPTION, landing.to_option())
        .option("files", json.dumps([f.to_dict() for f in files]))
        .load()
    )
    frame = frame.withColumn("_ingested_at", F.lit(datetime.now(UTC)).cast("timestamp"))
    return frame.withColumn("month", F.lit(month))


def union_all(frames: list[DataFrame]) -> DataFrame:
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    return union


def file_statistics(groups: list[dict]) -> list[dict]:
    """Per month and source file: rows, defective rows, rows outside the month, lossy rows."""
    files: dict[tuple[str, str], dict] = {}
    for g in groups:
        f = files.setdefault(
            (g["month"], g["_source_file"]),
            {
                "month": g["month"],
                "_source_file": g["_source_file"],
                "rows": 0,
                "defective": 0,
                "outside_month": 0,
                "lossy": 0,
            },
        )
        f["rows"] += g["rows"]
        f["defective"] += g["rows"] if g["_defect"] is not None else 0
        f["outside_month"] += g["outside_month"] or 0
        f["lossy"] += g["lossy"] or 0
    return list(files.values())


def refuse_misplaced_files(files: list[dict], quality: QualityResource) -> None:
    for f in files:
        if f["rows"] and f["outside_month"] / f["rows"] > quality.file_outside_month_share:
            raise rejected(
                f"{f['_source_file']}: {f['outside_month']:,} of {f['rows']:,} rows are dated "
                f"outside {f['month']}; the file is in the wrong month folder. Move it to the "
                "folder of the month its events belong to, then re-run."
            )


def summed(counts) -> dict[str, int]:
    """Code → rows over several months' ``code → rows`` mappings."""
    total: dict[str, int] = {}
    for by_code in counts:
        for code, n in by_code.items():
            total[code] = total.get(code, 0) + n
    return dict(sorted(total.items()))


def defect_counts(groups: list[dict]) -> dict[str, dict[str, int]]:
    """month → defect code → rows, from the statistics of the staging tasks."""
    counts: dict[str, dict[str, int]] = {}
    for g in groups:
        if g["_defect"] is not None:
            by_code = counts.setdefault(g["month"], {})
            by_code[g["_defect"]] = by_code.get(g["_defect"], 0) + g["rows"]
    return counts


def suppression_for(
    warehouse: WarehouseResource, key: PseudonymizationKeyResource
) -> SuppressionFilter:
    """The erased customers to keep out of this run (the key is read only when there are some)."""
    digests = suppressed_digests(warehouse.warehouse())
    return SuppressionFilter(key=key.key_bytes() if digests else None, digests=digests)


def without_suppressed(frame: DataFrame, suppression: SuppressionFilter) -> DataFrame:
    """``frame`` (parsed export rows) without erased customers' rows, in the Spark tasks (the
    key travels in the function's closure, never in the query plan)."""
    if not suppression.active:
        return frame

    def keep(batches):
        for batch in batches:
            yield suppression.split(batch)[0]

    return frame.mapInArrow(keep, frame.schema)


def refuse_defective_months(
    context: dg.AssetExecutionContext,
    raw: DataFrame,
    per_file: list[dict],
    per_month: dict[str, dict[str, int]],
    defects: dict[str, dict[str, int]],
    warehouse: WarehouseResource,
    quality: QualityResource,
    suppression: SuppressionFilter,
) -> None:
    """Reject every month whose unparseable share exceeds the threshold, before it is stored.

    The month's raw_events stay at their previous version; its defective rows go to
    ``rejected_events`` for inspection; the failure names files, codes, examples and the fix.
    """
    bad = [
        m
        for m, s in per_month.items()
        if s["rows"] and s["defective"] / s["rows"] > quality.max_defective_share
    ]
    if not bad:
        return
    defective = without_suppressed(
        raw.where(F.col("month").isin(bad) & F.col("_defect").isNotNull()), suppression
    )
    table_uri = record_rejected_rows(
        context,
        warehouse,
        defective,
        bad,
        "raw_events",
        reason=F.col("_defect"),
        line=F.col("_raw_line"),
    )
    messages = {}
    for month in bad:
        stats, codes = per_month[month], defects.get(month, {})
        top = sorted(codes, key=lambda c: -codes[c])
        messages[month] = rejection_message(
            month=month,
            problem=(
                f"{stats['defective']:,} of {stats['rows']:,} rows "
                f"({stats['defective'] / stats['rows']:.1%}) cannot be parsed; the limit is "
                f"{quality.max_defective_share:.1%}"
            ),
            files={
                f["_source_file"]: (f["rows"], f["defective"])
                for f in per_file
                if f["month"] == month
            },
            codes=codes,
            examples=examples_of(
                defective.where(F.col("month") == month), top, "_defect", F.col("_raw_line")
            ),
            rows_table=table_uri,
            threshold_setting="the quality resource's max_defective_share",
        )
    raise reject_months(context, warehouse, messages)


@dg.asset(
    **monthly_asset_options(code_version="1"),
    kinds={"spark", "delta"},
    group_name="events",
    deps=[erased_customers],
    check_specs=RAW_CHECK_SPECS,
)
@retry_only_transient
def raw_events(
    context: dg.AssetExecutionContext,
    spark: SparkResource,
    warehouse: WarehouseResource,
    quality: QualityResource,
    pseudonymization_key: PseudonymizationKeyResource,
):
    """Every row of the month's exports, typed, with provenance; unparseable rows kept, coded.

    Rows of erased customers (``erased_customers``, see :mod:`.suppression`)
    are left out and counted as ``erased_customer``: an erasure lasts across re-runs.

    Written by the parsing tasks themselves (:mod:`.landing_ingest`): each
    task parses a split, writes its rows as uncommitted files and counts them; the month is
    committed only once its statistics pass the gates below, otherwise the files are deleted.
    """
    session = spark.session()
    landing = warehouse.landing()
    files_by_month = month_exports(landing, run_months(context))
    # The same rows as a Spark DataFrame: its schema is the table's, and it serves a rejected
    # month's defective rows (read again only then).
    raw = union_all([read_landing(session, landing, fs, m) for m, fs in files_by_month.items()])
    months = list(files_by_month)
    location = warehouse.table("raw_events")
    previous = month_row_counts(location) if table_exists(location) else {}
    writer = DeltaWriter(
        location=location,
        spark_schema=raw.schema,
        replace_months=months,
        write_id=uuid.uuid4().hex,
        description=f"raw_events {months}",
    )
    suppression = suppression_for(warehouse, pseudonymization_key)
    staged = stage_or_refuse(session, landing, files_by_month, writer, suppression)
    erased = {m: sum(s.erased for s in staged if s.month == m) for m in months}
    try:
        rows, per_month, defects = _gate_months(
            context,
            raw,
            [g for s in staged for g in s.groups],
            files_by_month,
            warehouse,
            quality,
            suppression,
            erased,
        )
    except BaseException:
        writer.abort([s.message for s in staged])
        raise
    writer.commit([s.message for s in staged])
    yield dg.MaterializeResult(
        metadata=raw_metadata(rows, defects, erased, files_by_month, location, months)
    )
    yield from raw_results(
        arrow_schema_for(raw.drop("_ingested_at", "month").schema),
        per_month,
        {m: previous.get(add_months(m, -1)) for m in per_month},
        quality,
    )


def month_exports(landing: Location, months: list[str]) -> dict[str, list[LandingFile]]:
    """Each month's listed exports; a month with none, or with a misplaced layout, is refused
    before any Spark work (its previous version stays in place)."""
    files_by_month = {}
    for month in months:
        try:
            files = list_month_files(landing, month)
        except LandingFormatError as error:
            raise rejected(f"{error} (the month's previous version stays in place)") from error
        if not files:
            raise rejected(
                f"no export in {landing.child(month).uri}: drop the month's CSV (or .csv.gz) "
                "files there, then re-run this partition"
            )
        files_by_month[month] = files
    return files_by_month


def stage_or_refuse(session, landing: Location, files_by_month, writer: DeltaWriter, suppression):
    """:func:`stage_months`, with an unreadable export turned into a refusal that names it."""
    try:
        return stage_months(
            session, landing, files_by_month, writer, datetime.now(UTC), suppression=suppression
        )
    except Exception as error:
        message = landing_read_error(error)
        if message is None:
            raise
        raise rejected(f"{message} (the month's previous version stays in place)") from error


def raw_metadata(
    rows: list[dict[str, Any]],
    defects: dict[str, dict[str, int]],
    erased: dict[str, int],
    files_by_month: dict[str, list[LandingFile]],
    location: Location,
    months: list[str],
) -> dict[str, Any]:
    """What raw_events' materialisation says: rows, defects, erased rows, files, a preview."""
    return {
        "rows_in": sum(r["rows"] for r in rows),
        "defective_rows": sum(r["defective"] for r in rows),
        "defects_by_code": dg.MetadataValue.json(summed(defects.values())),
        # Accounted, not lost: data lines = rows stored + rows of erased customers.
        f"{ERASED_CUSTOMER}_rows": sum(erased.values()),
        "source_files": dg.MetadataValue.json(
            {m: [f.name for f in fs] for m, fs in files_by_month.items()}
        ),
        "per_month": dg.MetadataValue.md(markdown_table(rows, list(rows[0]))),
        # From the stored rows (a row group), not a second parse of an export's first split;
        # identifiers are left out by stored_preview.
        "preview": stored_preview(location, months),
        **table_metadata(location, months),
    }


def _gate_months(
    context: dg.AssetExecutionContext,
    raw: DataFrame,
    groups: list[dict],
    files_by_month: dict[str, list[LandingFile]],
    warehouse: WarehouseResource,
    quality: QualityResource,
    suppression: SuppressionFilter,
    erased: dict[str, int],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Refuse misplaced files, empty months and too defective months; per-month statistics.

    Returns the per-month rows of the metadata table, the per-month statistics and the defect
    counts. Raises (a Dagster failure naming the fix) when a month must not be stored.
    """
    per_file = file_statistics(groups)
    refuse_misplaced_files(per_file, quality)
    per_month = {
        m: {"rows": 0, "defective": 0, "outside_month": 0, "lossy": 0} for m in files_by_month
    }
    for f in per_file:
        for key in per_month[f["month"]]:
            per_month[f["month"]][key] += f[key]
    empty = [m for m, s in per_month.items() if s["rows"] == 0]
    if empty:
        erased_only = [m for m in empty if erased.get(m)]
        raise rejected(
            f"the exports of {empty} hold no data rows (header only?); re-export the month"
            + (f" ({erased_only}: every row belongs to an erased customer)" if erased_only else "")
        )
    defects = defect_counts(groups)
    refuse_defective_months(
        context, raw, per_file, per_month, defects, warehouse, quality, suppression
    )
    rows: list[dict[str, Any]] = []
    for month, files in files_by_month.items():
        stats = per_month[month]
        rows.append(
            {
                "month": month,
                "files": len(files),
                "bytes": sum(f.size for f in files),
                **stats,
                ERASED_CUSTOMER: erased.get(month, 0),
            }
        )
        context.log.info(
            f"raw_events {month}: {stats['rows']:,} rows from {len(files)} file(s), "
            f"{stats['defective']:,} defective, {stats['outside_month']:,} outside the month, "
            f"{erased.get(month, 0):,} of erased customers left out"
        )
    return rows, per_month, defects
