"""Stage a month's exports as ``raw_events`` files and count them, in ONE pass of Spark tasks.

The landing data source (:mod:`.landing_source`) hands parsed rows to the JVM;
writing them as ``raw_events`` then hands every row back to a Python worker for the Delta
writer, and the statistics the quality gates need took a second parse. At 10 M events that
was ~35 s against ~4 s of parsing. Here each Spark task parses one split of an export, writes
its rows as Parquet files of the table (not yet committed) and returns the files with the
split's statistics: rows never cross to the JVM.

The driver then decides: it commits the files as one Delta transaction
(:meth:`DeltaWriter.commit`) when the month passes its gates, or aborts the write, which deletes
them (:meth:`DeltaWriter.abort`). Until the commit, readers do not see the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.defs.ingestion.landing import LandingFile
from amazing_assets.defs.ingestion.landing_source import (
    DEFAULT_SPLIT_BYTES,
    FileSplit,
    LandingReadError,
    plan_splits,
    read_split,
)
from amazing_assets.defs.ingestion.suppression import NO_SUPPRESSION, SuppressionFilter
from amazing_assets.lib.customer_buckets import bucket_count
from amazing_assets.lib.delta_source import BucketGroupedFiles, DeltaCommitMessage, DeltaWriter
from amazing_assets.lib.months import month_bounds
from amazing_assets.lib.schema import WARNING_COLUMN
from amazing_assets.lib.storage import Location

GROUP_COLUMNS = ("_source_file", "_defect")


@dataclass
class StagedSplit:
    """What one task wrote, and its statistics per (month, source file, defect code); or why
    its split cannot be read (then it wrote nothing)."""

    message: DeltaCommitMessage
    groups: list[dict] = field(default_factory=list)
    error: str | None = None
    month: str = ""
    erased: int = 0
    """Rows of erased customers left out (:mod:`amazing_assets.defs.ingestion.suppression`)."""


@dataclass(frozen=True)
class MonthSplit:
    month: str
    split: FileSplit
    buckets: int
    """Customer buckets of the month's files (every split of a month uses the same count)."""


def split_statistics(batch: pa.RecordBatch, month: str) -> pa.Table:
    """Rows, rows dated outside ``month`` and lossy rows of ``batch`` per source file and defect
    code. A null time is not outside (the row is charged to its defect code instead)."""
    start, after = month_bounds(month)
    time = batch.column("event_time")
    outside = pc.or_(
        pc.less(time, pa.scalar(start, time.type)),
        pc.greater_equal(time, pa.scalar(after, time.type)),
    )
    table = pa.table(
        {
            "_source_file": batch.column("_source_file"),
            "_defect": batch.column("_defect"),
            "outside": pc.cast(pc.fill_null(outside, False), pa.int64()),
            "lossy": pc.cast(pc.is_valid(batch.column(WARNING_COLUMN)), pa.int64()),
        }
    )
    return table.group_by(list(GROUP_COLUMNS), use_threads=False).aggregate(
        [([], "count_all"), ("outside", "sum"), ("lossy", "sum")]
    )


def merged_groups(tables: list[pa.Table], month: str) -> list[dict]:
    """The per-batch statistics of a split summed into one row per (source file, defect)."""
    if not tables:
        return []
    summed = (
        pa.concat_tables(tables)
        .group_by(list(GROUP_COLUMNS), use_threads=False)
        .aggregate([("count_all", "sum"), ("outside_sum", "sum"), ("lossy_sum", "sum")])
    )
    return [
        {
            "month": month,
            "_source_file": row["_source_file"],
            "_defect": row["_defect"],
            "rows": row["count_all_sum"],
            "outside_month": row["outside_sum_sum"],
            "lossy": row["lossy_sum_sum"],
        }
        for row in summed.to_pylist()
    ]


def stage_split(
    landing: Location,
    writer: DeltaWriter,
    item: MonthSplit,
    ingested_at: datetime,
    suppression: SuppressionFilter = NO_SUPPRESSION,
) -> StagedSplit:
    """Parse one split, write its rows as uncommitted files of the table, count them (a task).

    Rows of erased customers (``suppression``) are counted, not written."""
    schema = writer.schema
    month_column = schema.field("month")
    ingested_field = schema.field("_ingested_at")
    statistics: list[pa.Table] = []
    erased = 0

    def table_batches() -> Iterator[pa.RecordBatch]:
        nonlocal erased
        for parsed in read_split(landing.filesystem(), item.split):
            batch, left_out = suppression.split(parsed)
            erased += left_out
            statistics.append(split_statistics(batch, item.month))
            n = batch.num_rows
            columns = {name: batch.column(name) for name in batch.schema.names}
            columns["_ingested_at"] = pa.repeat(pa.scalar(ingested_at, ingested_field.type), n)
            columns["month"] = pa.repeat(pa.scalar(item.month, month_column.type), n)
            yield pa.RecordBatch.from_arrays(
                [columns[f.name].cast(f.type) for f in schema], schema=schema
            )

    files = BucketGroupedFiles(writer, item.buckets)
    try:
        for batch in table_batches():
            files.add(batch)
        message = files.close()
    except LandingReadError as error:
        files.discard()
        return StagedSplit(message=DeltaCommitMessage(), error=str(error))
    except BaseException:
        files.discard()  # a failing task removes its own files
        raise
    return StagedSplit(
        message=message,
        groups=merged_groups(statistics, item.month),
        month=item.month,
        erased=erased,
    )


BYTES_PER_ROW = 135
"""A REES46 export line's size (10.3 M rows in 1.39 GB): rows estimated before parsing."""
GZIP_RATIO = 4
"""How much a gzipped export shrinks (estimate)."""


def estimated_rows(files: list[LandingFile]) -> int:
    """A month's rows, from its exports' sizes (sizes the customer buckets before parsing;
    a wrong guess only makes the cleaning's tasks larger or smaller)."""
    return sum(f.size * (GZIP_RATIO if f.compression else 1) for f in files) // BYTES_PER_ROW


def stage_months(
    spark,
    landing: Location,
    files_by_month: dict[str, list[LandingFile]],
    writer: DeltaWriter,
    ingested_at: datetime,
    split_bytes: int = DEFAULT_SPLIT_BYTES,
    suppression: SuppressionFilter = NO_SUPPRESSION,
) -> list[StagedSplit]:
    """One Spark task per split of every month's exports; their files and statistics.

    An export that cannot be read fails the write with a :class:`LandingReadError` naming every
    such file. Its tasks report it as a result instead of failing the Spark job: a failed job
    returns while its other tasks may still be writing, and a file landing after the clean-up
    would stay behind (until the month's next write swept it). So every task has finished when
    this write's files are deleted. Any other failure deletes the files found at that moment.
    """
    slots = spark.sparkContext.defaultParallelism
    items = [
        MonthSplit(month, split, bucket_count(estimated_rows(files), slots))
        for month, files in files_by_month.items()
        for split in plan_splits(files, split_bytes)
    ]
    rdd = spark.sparkContext.parallelize(items, max(1, len(items)))
    try:
        staged = rdd.map(
            lambda item: stage_split(landing, writer, item, ingested_at, suppression)
        ).collect()
    except BaseException:
        writer.abort([])  # removes every file of this write id, whichever task wrote it
        raise
    errors = list(dict.fromkeys(s.error for s in staged if s.error))
    if errors:
        writer.abort([s.message for s in staged])
        raise LandingReadError("\n".join(errors))
    return staged
