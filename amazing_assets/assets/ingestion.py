"""``raw_events``: the month's landing files as a typed table; nothing dropped."""

import json
from datetime import UTC, datetime

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from amazing_assets.assets.common import markdown_table, preview_markdown, run_months
from amazing_assets.io.landing import LandingFile, LandingFormatError, list_month_files
from amazing_assets.io.landing_source import FORMAT_NAME as LANDING_FORMAT
from amazing_assets.io.storage import LOCATION_OPTION, Location
from amazing_assets.partitions import monthly_partitions
from amazing_assets.resources.spark import SparkResource
from amazing_assets.resources.warehouse import WarehouseResource


def read_landing(spark, landing: Location, files: list[LandingFile], month: str) -> DataFrame:
    """The month's exports as a Spark DataFrame (typed, with defect codes), plus provenance."""
    return (
        spark.read.format(LANDING_FORMAT)
        .option(LOCATION_OPTION, landing.to_option())
        .option("files", json.dumps([f.to_dict() for f in files]))
        .load()
        .withColumn("_ingested_at", F.lit(datetime.now(UTC)).cast("timestamp"))
        .withColumn("month", F.lit(month))
    )


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="spark_delta_io_manager",
    kinds={"spark", "delta"},
    group_name="events",
)
def raw_events(
    context: dg.AssetExecutionContext, spark: SparkResource, warehouse: WarehouseResource
) -> dg.Output[DataFrame]:
    """Every row of the month's exports, typed, with provenance; unparseable rows kept, coded."""
    session = spark.session()
    landing = warehouse.landing()
    frames, files_by_month = [], {}
    for month in run_months(context):
        try:
            files = list_month_files(landing, month)
        except LandingFormatError as error:
            raise dg.Failure(str(error)) from error
        if not files:
            raise dg.Failure(
                f"no export in {landing.child(month).uri}: drop the month's CSV (or .csv.gz) "
                "files there, then re-run this partition"
            )
        files_by_month[month] = files
        frames.append(read_landing(session, landing, files, month))
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    raw = raw.persist(StorageLevel.MEMORY_AND_DISK)
    counts = {
        (r["month"], r["_defect"]): r["count"]
        for r in raw.groupBy("month", "_defect").count().collect()
    }
    per_month = []
    for month, files in files_by_month.items():
        rows = sum(n for (m, _), n in counts.items() if m == month)
        defective = sum(n for (m, d), n in counts.items() if m == month and d is not None)
        per_month.append(
            {
                "month": month,
                "files": len(files),
                "bytes": sum(f.size for f in files),
                "rows": rows,
                "defective_rows": defective,
            }
        )
        context.log.info(
            f"raw_events {month}: {rows:,} rows from {len(files)} file(s), {defective:,} defective"
        )
    defects = {d: n for (_, d), n in sorted(counts.items(), key=str) if d is not None}
    return dg.Output(
        raw,
        metadata={
            "rows_in": sum(r["rows"] for r in per_month),
            "defective_rows": sum(r["defective_rows"] for r in per_month),
            "defects_by_code": dg.MetadataValue.json(defects),
            "source_files": dg.MetadataValue.json(
                {m: [f.name for f in fs] for m, fs in files_by_month.items()}
            ),
            "per_month": dg.MetadataValue.md(markdown_table(per_month, list(per_month[0]))),
            # No raw identifier reaches the UI, even from the raw zone.
            "preview": preview_markdown(raw.drop("_raw_line", "user_id", "user_session")),
        },
    )
