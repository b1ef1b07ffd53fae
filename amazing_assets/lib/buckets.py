"""Reading a table bucket by bucket: Spark tasks that each read whole customers' files.

``raw_events`` and ``clean_events`` are written by customer bucket (Spark's hash of the user id
modulo a power-of-two count, :mod:`amazing_assets.lib.customer_buckets`): ``clean_events`` in
files of one bucket each, named after it (:class:`CustomerBucket`), ``raw_events`` in one file
per export split whose row groups each hold one bucket (:class:`BucketGroupedFiles`). A later
per-customer pass (the cleaning rules, the features) then needs no shuffle: each of its tasks
reads its bucket's files (or row groups) with pyarrow,
straight from storage (local or S3), and hands Spark only its results. This is what Spark's own
bucketed tables do, for the Delta tables our data source writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from amazing_assets.lib.arrow_groups import whole_partition
from amazing_assets.lib.columns import selected_columns
from amazing_assets.lib.customer_buckets import BUCKET_COLUMN, OUTPUT_BATCH_ROWS
from amazing_assets.lib.delta_source import (
    FilePartition,
    file_bucket,
    file_grouping,
    list_files,
    read_file,
    refuse_unsupported_features,
    row_group_buckets,
    table_arrow_schema,
)
from amazing_assets.lib.io_managers import read_spark
from amazing_assets.lib.storage import Location

FOOTER_READERS = 16
"""Footers of bucket-grouped files read at once (one small request each on S3)."""
Buckets = list[list[FilePartition]]
"""File groups, each holding whole customers."""


def files_by_bucket(location: Location, months: list[str]) -> Buckets | None:
    """The live files of ``months`` grouped so that each group holds whole customers, or None
    when a file carries no bucket (then only a shuffle can group customers).

    A file holds one bucket (named in its path, :class:`CustomerBucket`) or every bucket of
    its task in row groups of one bucket each (:class:`BucketGroupedFiles`, the buckets in its
    footer, read here on the driver): a group then takes that file's row groups of its bucket.
    Months may have been written with different bucket counts (powers of two sized to each
    month): with the smallest count ``n``, group ``i`` takes every file or row group whose
    bucket is ``i`` modulo ``n`` (a customer's bucket among ``2n`` tasks, modulo ``n``, is its
    bucket among ``n``).
    """
    from deltalake import DeltaTable

    table = DeltaTable(location.table_uri, storage_options=location.storage_options())
    refuse_unsupported_features(table, location)
    files = list_files(table, months)
    single = {path: file_bucket(path) for path, _ in files}
    grouping = {path: file_grouping(path) for path, bucket in single.items() if bucket is None}
    grouped = [path for path, count in grouping.items() if count]
    with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:  # S3: one request each
        read = pool.map(lambda path: row_group_buckets(location, path), grouped)
        plans = dict(zip(grouped, read, strict=True))
    if not files or any(plans.get(path) is None for path in grouping):
        return None
    counts = [b.count for b in single.values() if b] + [grouping[p] or 0 for p in grouped]
    count = min(counts)
    if any(c % count for c in counts):
        return None  # counts that do not nest (not written by this version)
    groups: list[list[FilePartition]] = [[] for _ in range(count)]
    for path, values in files:
        bucket = single[path]
        if bucket is not None:
            groups[bucket.index % count].append(FilePartition(path=path, partition_values=values))
            continue
        row_groups: dict[int, list[int]] = {}
        for index, in_bucket in enumerate(plans[path] or []):
            row_groups.setdefault(in_bucket % count, []).append(index)
        for group, indices in row_groups.items():
            groups[group].append(FilePartition(path, values, row_groups=indices))
    return groups


def map_buckets(
    spark: SparkSession,
    location: Location,
    buckets: Buckets,
    columns: list[str],
    per_bucket: Callable[[pa.Table], pa.Table],
    schema: pa.Schema,
) -> DataFrame:
    """A DataFrame of ``per_bucket`` applied to each bucket's rows (``columns`` of its files, as
    one table, with the bucket's index as :data:`BUCKET_COLUMN`): one Spark task per bucket,
    reading its files itself. ``schema``: what ``per_bucket`` returns."""
    stored = table_arrow_schema(location)
    if stored is None:
        raise FileNotFoundError(f"No Delta table at {location.uri}")
    read_schema = selected_columns(stored, ",".join(columns), location.uri)

    def apply(tasks: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in tasks:
            for bucket in batch.column("id").to_pylist():
                rows = [b for f in buckets[bucket] for b in read_file(location, read_schema, f)]
                if rows:
                    table = pa.Table.from_batches(rows, read_schema)
                    number = pa.repeat(pa.scalar(bucket, pa.int32()), table.num_rows)
                    table = table.append_column(BUCKET_COLUMN, number)
                    yield from per_bucket(table).to_batches(OUTPUT_BATCH_ROWS)

    tasks = spark.range(0, len(buckets), 1, numPartitions=max(1, len(buckets)))
    return tasks.mapInArrow(apply, from_arrow_schema(schema))


def per_customer_frame(
    spark: SparkSession,
    location: Location,
    months: list[str],
    buckets: Buckets | None,
    columns: list[str],
    per_task: Callable[[pa.Table], pa.Table],
    schema: pa.Schema,
    *,
    customer_column: str,
    partitions: int,
) -> DataFrame:
    """``per_task`` applied to groups of whole customers' rows of ``months``: bucket by bucket
    when every file carries its bucket (``buckets``, from :func:`files_by_bucket`), else (None)
    after a shuffle by ``customer_column`` into ``partitions`` tasks (files rewritten by an
    erasure, or written before buckets)."""
    if buckets is not None:
        return map_buckets(spark, location, buckets, columns, per_task, schema)
    wanted = columns if customer_column in columns else [*columns, customer_column]
    by_customer = read_spark(spark, location, months, columns=wanted).repartition(
        partitions, customer_column
    )
    return by_customer.mapInArrow(whole_partition(per_task), from_arrow_schema(schema))
