"""``clean_events`` and ``event_quarantine`` written by the tasks that classify the rows.

Each classification task holds whole customers (``classify_events``). Once its rows are
classified and pseudonymised, the same task:
- writes its kept rows and its dropped rows as uncommitted files of the two tables;
- counts its rows per (month, reason) with the checks' violations, and its kept duplicates;
- returns one summary row: the files and the counts.

The driver adds the counts up, checks the accounting, then commits both tables
(:meth:`DeltaWriter.commit`) or deletes the files (:meth:`DeltaWriter.abort`). Readers see
nothing until the commit, as with every other write.

Why: classifying into a disk cache, then reading the cache back for the counts, the clean write,
the quarantine write and the duplicate scan moved a month of rows between the JVM and Python
workers five times. At 10.3 M events clean_events went from 75 s to 42 s with this pass alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql.types import StringType, StructField, StructType

from amazing_assets.defs.cleaning.clean_tables import (
    RowsOf,
    clean_rows,
    kept_duplicates,
    merged_counts,
    outcome_counts,
    quarantine_rows,
)
from amazing_assets.lib.customer_buckets import BUCKET_COLUMN
from amazing_assets.lib.delta_source import (
    CustomerBucket,
    DeltaCommitMessage,
    DeltaWriter,
    TaskFiles,
    WrittenFile,
)

SUMMARY_SCHEMA = StructType([StructField("summary", StringType(), nullable=False)])
"""One row per task: JSON of its files and counts (small: a few files, a few groups)."""


@dataclass
class StagedCleaning:
    """What the tasks wrote (uncommitted) and counted."""

    clean: DeltaCommitMessage
    quarantine: DeltaCommitMessage
    groups: list[dict]
    """:func:`~amazing_assets.defs.cleaning.clean_tables.outcome_counts`, added up."""
    duplicates: int


def task_writer(
    clean: DeltaWriter, quarantine: DeltaWriter, buckets: int
) -> Callable[[pa.Table], pa.Table]:
    """The function a classification task ends with: its classified rows → files of both tables
    and a one-row summary (:data:`SUMMARY_SCHEMA`). A task that fails deletes its files.

    ``buckets``: the classification's task count. Each task holds whole customers, one bucket
    of them (:data:`BUCKET_COLUMN`), and names its files after it, so that a later pass can
    read whole customers without a shuffle (``files_by_bucket``).
    """
    targets: list[tuple[DeltaWriter, RowsOf]] = [(clean, clean_rows), (quarantine, quarantine_rows)]

    def write(classified: pa.Table) -> pa.Table:
        bucket = task_bucket(classified, buckets)
        files = [TaskFiles(writer, bucket) for writer, _ in targets]
        try:
            for task_files, (writer, rows_of) in zip(files, targets, strict=True):
                rows = rows_of(classified).cast(writer.schema)
                for batch in rows.to_batches(max_chunksize=writer.rows_per_file):
                    task_files.add(batch)
            messages = [task_files.close() for task_files in files]
            summary = {
                "clean": [asdict(f) for f in messages[0].files],
                "quarantine": [asdict(f) for f in messages[1].files],
                "groups": outcome_counts(classified),
                "duplicates": kept_duplicates(classified),
            }
        except BaseException:
            for task_files in files:
                task_files.discard()
            raise
        return pa.table({"summary": pa.array([json.dumps(summary)], pa.string())})

    return write


def task_bucket(classified: pa.Table, buckets: int) -> CustomerBucket:
    """The one bucket of a task's rows; several would mean Spark's partitioning is not the hash
    :func:`classify_events` computed, and the files would lie about the customers they hold."""
    found = pc.unique(classified[BUCKET_COLUMN]).to_pylist()
    if len(found) != 1:
        raise RuntimeError(
            f"a classification task received rows of customer buckets {found[:5]}, not one: "
            "Spark's hash partitioning changed? (report it: the bucketed layout relies on it)"
        )
    return CustomerBucket(found[0], buckets)


def collect_staged(summaries: DataFrame) -> StagedCleaning:
    """Run the classification job whose tasks end with :func:`task_writer`; their files and
    counts, added up."""
    parsed = [json.loads(row["summary"]) for row in summaries.collect()]
    return StagedCleaning(
        clean=DeltaCommitMessage([WrittenFile(**f) for p in parsed for f in p["clean"]]),
        quarantine=DeltaCommitMessage([WrittenFile(**f) for p in parsed for f in p["quarantine"]]),
        groups=merged_counts([g for p in parsed for g in p["groups"]]),
        duplicates=sum(p["duplicates"] for p in parsed),
    )
