"""Spark 4 Python data source ``amazing_delta``: Delta Lake tables on any pyarrow filesystem.

Why not Spark's own Delta/S3 support: those need jars from Maven (unreachable here) and would make
local and S3 two code paths. Here executors read and write Parquet with pyarrow, and the driver
commits with deltalake (delta-rs). See docs/architecture.md.

Write protocol (``df.write.format("amazing_delta").mode("overwrite")``):

1. Each task buffers Arrow batches per month into ~1 M-row Parquet files under
   ``<table>/month=YYYY-MM/part-<write_id>-<task>-<n>.parquet`` and returns the file list. A task
   that fails removes its own files before re-raising. A task that holds one customer bucket
   names it: ``part-<write_id>-<task>-b<index>of<count>-<n>.parquet``; a task that holds rows of
   every bucket (an export's split) writes them grouped, one bucket per row group, as
   ``part-<write_id>-<task>-g<count>-<n>.parquet`` with the row groups' buckets in the footer
   (:mod:`.buckets`).
2. The driver's :meth:`DeltaWriter.commit` verifies what deltalake does not (schema, partition
   column, every file inside the months being replaced, every file present), then commits one
   Delta transaction that replaces exactly the months in ``replace_months`` (a month with no rows
   becomes empty). The commit carries an app transaction tagged with ``write_id``.
3. :meth:`DeltaWriter.abort` deletes the files of the failed write, unless the table's log shows
   the tagged commit landed (then the files are live data and must stay).

Read: ``spark.read.format("amazing_delta").option("location", ...).option("months", "2019-10,...")``
yields one Spark partition per Parquet file, with the month column re-attached.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from amazing_assets.lib.columns import comma_list, selected_columns
from amazing_assets.lib.customer_buckets import customer_buckets
from amazing_assets.lib.delta_commits import (
    MAX_COMMIT_RETRIES,
    ConcurrentMonthWriteError,
    commit_months,
    current_version,
    first_commit,
)
from amazing_assets.lib.storage import (
    LOCATION_OPTION,
    PARTITION_COLUMN,
    Location,
    stat_size,
    upload_bytes,
)
from amazing_assets.lib.table_paths import confined_paths

FORMAT_NAME = "amazing_delta"
APP_ID = "amazing-segments"
DEFAULT_ROWS_PER_FILE = 1_000_000
ROW_GROUP_ROWS = 131_072  # read parallelism: a reader task takes a few row groups, not a file
ROW_GROUPS_PER_TASK = 2
# Reader features this reader implements; anything else (deletion vectors, column mapping...)
# would make a plain Parquet read wrong, so such tables are refused.
SUPPORTED_READER_FEATURES = {"timestampNtz"}


class DeltaWriteError(RuntimeError):
    """A write was refused at commit time; nothing was committed."""


# ---------------------------------------------------------------------------------------------
# Schema helpers shared by reader, writer and driver-side helpers
# ---------------------------------------------------------------------------------------------
def arrow_schema_for(spark_schema: StructType) -> pa.Schema:
    """Arrow schema of a Spark schema, timestamps in UTC microseconds, every field nullable.

    Nullability is dropped on purpose: Spark's nullability flags change with the query plan, and
    a table must not refuse a month because a plan proved a column non-null this time.
    """
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(spark_schema, timezone="UTC")
    return pa.schema([f.with_nullable(True) for f in schema])


def same_columns(a: pa.Schema, b: pa.Schema) -> bool:
    """Equal names and types in the same order, ignoring nullability and metadata."""
    return [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b]


def describe_schema(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}:{f.type}" for f in schema)


def table_arrow_schema(location: Location) -> pa.Schema | None:
    """Arrow schema of an existing Delta table, or None when there is no table yet."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(location.table_uri, storage_options=location.storage_options()):
        return None
    table = DeltaTable(location.table_uri, storage_options=location.storage_options())
    return pa.schema(table.schema().to_arrow())


# ---------------------------------------------------------------------------------------------
# Data source
# ---------------------------------------------------------------------------------------------
class DeltaDataSource(DataSource):
    """Entry point registered with ``spark.dataSource.register(DeltaDataSource)``."""

    @classmethod
    def name(cls) -> str:
        return FORMAT_NAME

    @property
    def location(self) -> Location:
        if LOCATION_OPTION not in self.options:
            raise ValueError(f"{FORMAT_NAME}: option {LOCATION_OPTION!r} is required")
        return Location.from_option(self.options[LOCATION_OPTION])

    def schema(self) -> StructType:
        from pyspark.sql.pandas.types import from_arrow_schema

        schema = table_arrow_schema(self.location)
        if schema is None:
            raise FileNotFoundError(
                f"No Delta table at {self.location.uri}: materialise the asset that writes it first"
            )
        return from_arrow_schema(selected_columns(schema, self.options.get("columns"), FORMAT_NAME))

    def reader(self, schema: StructType) -> DataSourceReader:
        return DeltaReader(self.location, comma_list(self.options.get("months")), schema)

    def writer(self, schema: StructType, overwrite: bool) -> DeltaWriter:
        if not overwrite:
            raise DeltaWriteError(
                f"{FORMAT_NAME} only supports mode('overwrite') of explicit months "
                "(option replace_months): appends would double a month on re-runs"
            )
        months = comma_list(self.options.get("replace_months"))
        if not months:
            raise DeltaWriteError(f"{FORMAT_NAME}: option replace_months is required")
        return DeltaWriter(
            location=self.location,
            spark_schema=schema,
            replace_months=months,
            write_id=self.options.get("write_id") or uuid.uuid4().hex,
            rows_per_file=int(self.options.get("rows_per_file", DEFAULT_ROWS_PER_FILE)),
            description=self.options.get("description", ""),
        )


# ---------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------
@dataclass
class FilePartition(InputPartition):
    path: str  # relative to the table root
    partition_values: dict[str, str]
    row_groups: list[int] | None = None  # None: the whole file


class DeltaReader(DataSourceReader):
    def __init__(self, location: Location, months: list[str], spark_schema: StructType) -> None:
        self.location = location
        self.months = months
        self.schema = arrow_schema_for(spark_schema)

    def partitions(self) -> Sequence[InputPartition]:
        from deltalake import DeltaTable

        table = DeltaTable(self.location.table_uri, storage_options=self.location.storage_options())
        refuse_unsupported_features(table, self.location)
        files = list_files(table, self.months)
        if not files:
            # Spark needs at least one partition; an empty one yields no rows.
            return [FilePartition(path="", partition_values={})]
        fs = self.location.filesystem()
        partitions = []
        for path, values in files:
            # A file's footer says how many row groups it has: split big files across tasks.
            with fs.open_input_file(f"{self.location.path}/{path}") as handle:
                groups = pq.ParquetFile(handle).metadata.num_row_groups
            if groups <= ROW_GROUPS_PER_TASK:
                partitions.append(FilePartition(path=path, partition_values=values))
                continue
            for first in range(0, groups, ROW_GROUPS_PER_TASK):
                chunk = list(range(first, min(first + ROW_GROUPS_PER_TASK, groups)))
                partitions.append(
                    FilePartition(path=path, partition_values=values, row_groups=chunk)
                )
        return partitions

    # Spark passes back the partitions that partitions() returned, hence the narrower type.
    def read(self, partition: FilePartition) -> Iterator[pa.RecordBatch]:  # type: ignore[override]
        return read_file(self.location, self.schema, partition)


def read_file(
    location: Location, schema: pa.Schema, partition: FilePartition
) -> Iterator[pa.RecordBatch]:
    """The rows of one file (or of its row groups) with ``schema``'s columns, the partition
    values re-attached."""
    if not partition.path:
        return
    fs = location.filesystem()
    file_schema = pa.schema([f for f in schema if f.name not in partition.partition_values])
    with fs.open_input_file(f"{location.path}/{partition.path}") as handle:
        parquet = pq.ParquetFile(handle)
        batches = parquet.iter_batches(
            batch_size=65_536, columns=file_schema.names, row_groups=partition.row_groups
        )
        for batch in batches:
            columns = []
            for f in schema:
                if f.name in partition.partition_values:
                    value = partition.partition_values[f.name]
                    columns.append(pa.repeat(pa.scalar(value, f.type), batch.num_rows))
                else:
                    columns.append(batch.column(f.name).cast(f.type))
            yield pa.RecordBatch.from_arrays(columns, schema=schema)


# ---------------------------------------------------------------------------------------------
# Customer buckets: files that hold whole customers
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerBucket:
    """The customers of a file: those whose Spark hash of the user id, modulo ``count`` (a power
    of two), is ``index``. A task that holds whole customers names its files with it."""

    index: int
    count: int

    @property
    def tag(self) -> str:
        return f"b{self.index}of{self.count}"


_BUCKET_TAG = re.compile(r"-b(\d+)of(\d+)-\d+\.parquet$")


def file_bucket(path: str) -> CustomerBucket | None:
    """The bucket a file's name gives, or None (files written otherwise, e.g. rewritten by an
    erasure)."""
    found = _BUCKET_TAG.search(path)
    return CustomerBucket(int(found.group(1)), int(found.group(2))) if found else None


_GROUPED_TAG = re.compile(r"-g(\d+)-\d+\.parquet$")


def file_grouping(path: str) -> int | None:
    """The bucket count of a bucket-grouped file (:class:`BucketGroupedFiles`) from its name,
    or None."""
    found = _GROUPED_TAG.search(path)
    return int(found.group(1)) if found else None


def row_group_buckets(location: Location, path: str) -> list[int] | None:
    """The customer bucket of each row group of a bucket-grouped file (its footer), or None
    when the footer does not say (then its rows cannot be read by bucket)."""
    with location.filesystem().open_input_file(f"{location.path}/{path}") as handle:
        metadata = pq.ParquetFile(handle).metadata
    plan = (metadata.metadata or {}).get(ROW_GROUP_BUCKETS_KEY)
    if plan is None:
        return None
    buckets = [int(b) for b in plan.decode().split(",") if b]
    return buckets if len(buckets) == metadata.num_row_groups else None


def refuse_unsupported_features(table, location: Location) -> None:
    protocol = table.protocol()
    features = set(protocol.reader_features or [])
    unsupported = features - SUPPORTED_READER_FEATURES
    if protocol.min_reader_version > 3 or unsupported:
        raise NotImplementedError(
            f"Delta table {location.uri} needs reader features {sorted(unsupported)} "
            f"(reader version {protocol.min_reader_version}) that {FORMAT_NAME} does not "
            "implement; read it with deltalake directly or rewrite it without them"
        )


def list_files(table, months: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Relative paths and partition values of the table's live files, optionally per month."""
    actions = table.get_add_actions(flatten=True)
    actions = pa.table(actions) if not isinstance(actions, pa.Table) else actions
    paths = confined_paths(actions.column("path").to_pylist(), table.table_uri)
    month_col = f"partition.{PARTITION_COLUMN}"
    months_of = (
        actions.column(month_col).to_pylist()
        if month_col in actions.column_names
        else [None] * len(paths)
    )
    wanted = set(months)
    return [
        (path, {PARTITION_COLUMN: month} if month is not None else {})
        for path, month in zip(paths, months_of, strict=True)
        if not wanted or month in wanted
    ]


# ---------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------
@dataclass
class WrittenFile:
    path: str  # relative to the table root
    month: str
    size: int
    num_records: int


@dataclass
class DeltaCommitMessage(WriterCommitMessage):
    files: list[WrittenFile] = field(default_factory=list)


class _MonthFileWriter:
    """Buffers one month's batches and rolls Parquet files at ``rows_per_file`` rows."""

    def __init__(self, writer: DeltaWriter, fs, month: str, task_id: str) -> None:
        self.writer, self.fs, self.month, self.task_id = writer, fs, month, task_id
        self.buffer: list[pa.RecordBatch] = []
        self.buffered_rows = 0
        self.files: list[WrittenFile] = []

    def add(self, batch: pa.RecordBatch) -> None:
        self.buffer.append(batch)
        self.buffered_rows += batch.num_rows
        if self.buffered_rows >= self.writer.rows_per_file:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.Table.from_batches(self.buffer)
        self.buffer, self.buffered_rows = [], 0

        def encode() -> pa.Buffer:
            buffer = pa.BufferOutputStream()
            pq.write_table(table, buffer, row_group_size=ROW_GROUP_ROWS, compression="zstd")
            return buffer.getvalue()

        upload_part(
            self.writer, self.fs, self.month, self.task_id, self.files, table.num_rows, encode
        )


def upload_part(
    writer: DeltaWriter,
    fs,
    month: str,
    task_id: str,
    files: list[WrittenFile],
    rows: int,
    encode: Callable[[], pa.Buffer],
) -> None:
    """Upload the task's next Parquet file of ``month`` (``encode``'s bytes), numbered by its
    place in ``files``. The file is recorded in ``files`` before it is written, so a failure
    mid-write still cleans it up."""
    relative = (
        f"{PARTITION_COLUMN}={month}/part-{writer.write_id}-{task_id}-{len(files):04d}.parquet"
    )
    full = f"{writer.location.path}/{relative}"
    record = WrittenFile(path=relative, month=month, size=0, num_records=rows)
    files.append(record)
    if not writer.location.is_s3:
        fs.create_dir(full.rsplit("/", 1)[0], recursive=True)
    data = encode()
    upload_bytes(writer.location, full, data.to_pybytes())
    record.size = len(data)


def month_parts(writer: DeltaWriter, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
    """``batch``'s rows per month, in the files' schema (no month column); a month outside the
    write's months is an error."""
    if batch.num_rows == 0:
        return
    file_schema = writer.file_schema
    months = batch.column(PARTITION_COLUMN)
    distinct = months.unique().to_pylist()
    for month in distinct:
        if month not in writer.replace_months:
            raise DeltaWriteError(
                f"row with {PARTITION_COLUMN}={month!r} outside the months being "
                f"replaced {sorted(writer.replace_months)}"
            )
        # A batch usually holds one month: no filter (a copy of every column) then.
        rows = batch if len(distinct) == 1 else batch.filter(pa.compute.equal(months, month))
        yield (
            month,
            pa.RecordBatch.from_arrays(
                [rows.column(name) for name in file_schema.names], schema=file_schema
            ),
        )


def by_bucket(
    batch: pa.RecordBatch, count: int, customer_column: str
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """``batch``'s rows per customer bucket among ``count``, in bucket order."""
    buckets = customer_buckets(batch.column(customer_column), count)
    order = np.argsort(buckets, kind="stable")
    ordered = buckets[order]
    starts = np.flatnonzero(np.diff(ordered, prepend=-1))
    ends = np.append(starts[1:], len(ordered))
    for start, end in zip(starts, ends, strict=True):
        yield int(ordered[start]), batch.take(pa.array(order[start:end]))


class TaskFiles:
    """One task's share of a write: batches of any of the write's months in, Parquet files out.

    :meth:`DeltaWriter.write` feeds it a Spark partition; a task that produces rows for several
    tables (the cleaning's clean and quarantine rows) holds one per table. Nothing is visible to
    readers until the driver commits the messages (:meth:`DeltaWriter.commit`).
    """

    def __init__(self, writer: DeltaWriter, bucket: CustomerBucket | None = None) -> None:
        self.writer = writer
        self.fs = writer.location.filesystem()
        self.task_id = uuid.uuid4().hex[:12] + (f"-{bucket.tag}" if bucket else "")
        self.months: dict[str, _MonthFileWriter] = {}

    def add(self, batch: pa.RecordBatch) -> None:
        for month, part in month_parts(self.writer, batch):
            if month not in self.months:
                self.months[month] = _MonthFileWriter(self.writer, self.fs, month, self.task_id)
            self.months[month].add(part)

    def close(self) -> DeltaCommitMessage:
        """Write what is buffered; the files for the driver to commit."""
        for month_writer in self.months.values():
            month_writer.flush()
        return DeltaCommitMessage(files=self.files)

    def discard(self) -> None:
        """Delete this task's files (a failed task leaves nothing behind)."""
        delete_files(self.writer.location, self.files)

    @property
    def files(self) -> list[WrittenFile]:
        return [f for w in self.months.values() for f in w.files]


ROW_GROUP_BUCKETS_KEY = b"amazing.row_group_buckets"
"""Footer key of a bucket-grouped file: the customer bucket of each row group, comma-separated."""


class BucketGroupedFiles:
    """One task's rows of every customer bucket (:func:`customer_buckets` of the user id) in
    files of ~``rows_per_file`` rows, each bucket in row groups of its own, the row groups'
    buckets in the footer (:data:`ROW_GROUP_BUCKETS_KEY`); a later task reads whole customers
    without a shuffle by reading its bucket's row groups (:mod:`.buckets`).

    Why not a file per bucket: an export's split holds rows of every bucket, so a month of
    45 splits and 64 buckets was 2,880 files of ~15 k rows, which object-store listing and the
    Delta log pay for. Grouped, it is one file per split (~1 M rows) and the reads are the same.
    """

    def __init__(self, writer: DeltaWriter, count: int, customer_column: str = "user_id") -> None:
        self.writer, self.count, self.customer_column = writer, count, customer_column
        self.fs = writer.location.filesystem()
        self.task_id = f"{uuid.uuid4().hex[:12]}-g{count}"
        self.pending: dict[str, dict[int, list[pa.RecordBatch]]] = {}
        self.pending_rows: dict[str, int] = {}
        self.files: list[WrittenFile] = []

    def add(self, batch: pa.RecordBatch) -> None:
        for month, part in month_parts(self.writer, batch):
            buckets = self.pending.setdefault(month, {})
            for bucket, rows in by_bucket(part, self.count, self.customer_column):
                buckets.setdefault(bucket, []).append(rows)
            self.pending_rows[month] = self.pending_rows.get(month, 0) + part.num_rows
            if self.pending_rows[month] >= self.writer.rows_per_file:
                self.flush(month)

    def flush(self, month: str) -> None:
        buckets = self.pending.pop(month, {})
        self.pending_rows.pop(month, None)
        if not buckets:
            return
        order = sorted(buckets)
        tables = [pa.Table.from_batches(buckets[b]) for b in order]
        plan = [
            str(bucket)
            for bucket, table in zip(order, tables, strict=True)
            for _ in range(-(-table.num_rows // ROW_GROUP_ROWS))
        ]
        schema = self.writer.file_schema.with_metadata({ROW_GROUP_BUCKETS_KEY: ",".join(plan)})

        def encode() -> pa.Buffer:
            buffer = pa.BufferOutputStream()
            with pq.ParquetWriter(buffer, schema, compression="zstd") as parquet:
                for table in tables:  # each call starts a new row group: buckets never share one
                    parquet.write_table(table, row_group_size=ROW_GROUP_ROWS)
            data = buffer.getvalue()
            written = pq.ParquetFile(pa.BufferReader(data)).metadata.num_row_groups
            if written != len(plan):  # the footer would name the wrong buckets
                raise DeltaWriteError(f"{month}: {written} row groups written, {len(plan)} planned")
            return data

        rows = sum(t.num_rows for t in tables)
        upload_part(self.writer, self.fs, month, self.task_id, self.files, rows, encode)

    def close(self) -> DeltaCommitMessage:
        """Write what is buffered; the files for the driver to commit."""
        for month in list(self.pending):
            self.flush(month)
        return DeltaCommitMessage(files=self.files)

    def discard(self) -> None:
        """Delete this task's files (a failed task leaves nothing behind)."""
        delete_files(self.writer.location, self.files)


class DeltaWriter(DataSourceArrowWriter):
    def __init__(
        self,
        location: Location,
        spark_schema: StructType,
        replace_months: list[str],
        write_id: str,
        rows_per_file: int = DEFAULT_ROWS_PER_FILE,
        description: str = "",
        snapshot_version: int | None = None,
    ) -> None:
        self.location = location
        # The version the write is planned on (None: no table yet). Built on the driver before
        # any task runs, so a commit of the same months while the job runs fails this write's
        # commit (see ``delta_commits``); the executors only carry it.
        self.snapshot_version = (
            snapshot_version if snapshot_version is not None else current_version(location)
        )
        self.schema = arrow_schema_for(spark_schema)
        self.replace_months = replace_months
        self.write_id = write_id
        self.rows_per_file = rows_per_file
        self.description = description
        if PARTITION_COLUMN not in self.schema.names:
            raise DeltaWriteError(
                f"{FORMAT_NAME}: the DataFrame has no {PARTITION_COLUMN!r} column; "
                f"columns are {self.schema.names}"
            )

    @property
    def file_schema(self) -> pa.Schema:
        return pa.schema([f for f in self.schema if f.name != PARTITION_COLUMN])

    # -- executors -----------------------------------------------------------------------
    def write(self, iterator: Iterator[pa.RecordBatch]) -> DeltaCommitMessage:
        files = TaskFiles(self)
        try:
            for batch in iterator:
                files.add(batch)
            return files.close()
        except BaseException:
            files.discard()
            raise

    # -- driver --------------------------------------------------------------------------
    # The messages are the ones write() returned (None for a task that sent none).
    def commit(self, messages: list[DeltaCommitMessage | None]) -> None:  # type: ignore[override]
        from deltalake.transaction import (
            AddAction,
            CommitProperties,
            Transaction,
            create_table_with_add_actions,
        )

        files = [f for m in messages if m is not None for f in m.files]
        self.verify(files)
        now_ms = int(time.time() * 1000)
        actions = [
            AddAction(
                path=f.path,
                size=f.size,
                partition_values={PARTITION_COLUMN: f.month},
                modification_time=now_ms,
                data_change=True,
                stats=json.dumps({"numRecords": f.num_records}),
            )
            for f in files
        ]
        metadata = {
            "amazing.write_id": self.write_id,
            "amazing.replace_months": ",".join(self.replace_months),
            "amazing.description": self.description,
        }
        write_transaction = Transaction(app_id=app_transaction_id(self.write_id), version=1)

        def properties(month_transactions: list, retries: int) -> CommitProperties:
            return CommitProperties(
                custom_metadata=metadata,
                app_transactions=[write_transaction, *month_transactions],
                max_commit_retries=retries,
            )

        def create(month_transactions: list, retries: int) -> None:
            create_table_with_add_actions(
                self.location.table_uri,
                schema=self._delta_schema(),
                add_actions=actions,
                mode="error",
                partition_by=[PARTITION_COLUMN],
                storage_options=self.location.storage_options(),
                commit_properties=properties(month_transactions, retries),
            )

        def replace(table, month_transactions: list) -> None:
            table.create_write_transaction(
                actions,
                mode="overwrite",
                schema=self._delta_schema(),
                partition_by=[PARTITION_COLUMN],
                partition_filters=[(PARTITION_COLUMN, "in", list(self.replace_months))],
                commit_properties=properties(month_transactions, MAX_COMMIT_RETRIES),
            )

        def same_schema(latest) -> bool:
            return same_columns(pa.schema(latest.schema().to_arrow()), self.schema)

        try:
            if self.snapshot_version is None:  # planned before the table existed
                first_commit(self.location, self.replace_months, create, replace, same_schema)
            else:
                commit_months(self.location, self.snapshot_version, self.replace_months, replace)
        except ConcurrentMonthWriteError as error:
            raise DeltaWriteError(str(error)) from error
        # Hygiene: files of earlier writes to these months that never landed (killed tasks),
        # old enough that no live write can own them.
        sweep_unlanded_files(self.location, self.replace_months)

    def _delta_schema(self):
        from deltalake import Schema

        return Schema.from_arrow(self.schema)

    def verify(self, files: list[WrittenFile]) -> None:
        """The checks delta-rs leaves to the caller; raising here commits nothing."""
        existing = table_arrow_schema(self.location)
        if existing is not None:
            if not same_columns(existing, self.schema):
                raise DeltaWriteError(
                    f"schema of the write does not match table {self.location.uri}:\n"
                    f"  table: {describe_schema(existing)}\n"
                    f"  write: {describe_schema(self.schema)}\n"
                    "Delete the table (or write to a new one) if the change is intended."
                )
            from deltalake import DeltaTable

            table = DeltaTable(
                self.location.table_uri, storage_options=self.location.storage_options()
            )
            partition_columns = table.metadata().partition_columns
            if list(partition_columns) != [PARTITION_COLUMN]:
                raise DeltaWriteError(
                    f"table {self.location.uri} is partitioned by {partition_columns}, "
                    f"expected [{PARTITION_COLUMN!r}]"
                )
        allowed = set(self.replace_months)
        for f in files:
            prefix = f"{PARTITION_COLUMN}={f.month}/"
            if (
                f.month not in allowed
                or not f.path.startswith(prefix)
                or "/" in f.path[len(prefix) :]
            ):
                raise DeltaWriteError(
                    f"file {f.path} lies outside the months being replaced {sorted(allowed)}"
                )
            if stat_size(self.location, f"{self.location.path}/{f.path}") != f.size:
                raise DeltaWriteError(f"file {f.path} is missing or changed before commit")

    def abort(self, messages: list[DeltaCommitMessage | None]) -> None:  # type: ignore[override]
        if commit_landed(self.location, self.write_id):
            return
        # Record the failure first: a task still uploading when Spark aborted the job can land a
        # file after the sweep below; the next write of the month then knows it is garbage.
        mark_aborted(self.location, self.write_id)
        delete_files(self.location, [f for m in messages if m is not None for f in m.files])
        # Tasks still running when Spark aborted the job leave files no message lists: this
        # write's own, never another run's.
        sweep_unlanded_files(self.location, self.replace_months, write_id=self.write_id)


def app_transaction_id(write_id: str) -> str:
    return f"{APP_ID}:{write_id}"


def commit_landed(location: Location, write_id: str) -> bool:
    from deltalake import DeltaTable

    options = location.storage_options()
    if not DeltaTable.is_deltatable(location.table_uri, storage_options=options):
        return False
    table = DeltaTable(location.table_uri, storage_options=options)
    return table.transaction_version(app_transaction_id(write_id)) is not None


# A file of a write that never landed is garbage only once no live write can own it: Delta's
# VACUUM keeps unreferenced files for 7 days for the same reason. A month's write finishes in
# minutes; a day is far beyond any live write and still cleans a crashed run's leftovers.
STALE_WRITE_AGE_S = 24 * 3600

ABORTED_WRITES_DIR = "_amazing_aborted_writes"
"""Beside ``_delta_log``: an empty object per aborted write id (readers skip ``_`` folders)."""


def mark_aborted(location: Location, write_id: str) -> None:
    """Record that ``write_id`` failed, so its straggler files are garbage at any age."""
    fs = location.filesystem()
    fs.create_dir(f"{location.path}/{ABORTED_WRITES_DIR}", recursive=True)
    with fs.open_output_stream(f"{location.path}/{ABORTED_WRITES_DIR}/{write_id}"):
        pass


def aborted_write_ids(location: Location) -> set[str]:
    import pyarrow.fs as pafs

    selector = pafs.FileSelector(f"{location.path}/{ABORTED_WRITES_DIR}", allow_not_found=True)
    return {i.base_name for i in location.filesystem().get_file_info(selector)}


def sweep_unlanded_files(
    location: Location,
    months: list[str],
    *,
    write_id: str | None = None,
    older_than_s: float = STALE_WRITE_AGE_S,
) -> list[str]:
    """Delete data files in ``months`` whose write never committed; return their paths.

    Files are named ``part-<write_id>-...``; a write id without a landed app transaction in the
    log belongs to a failed write or to one still running. With ``write_id``, only that write's
    files go (an abort cleans up after itself, whatever their age); otherwise only files of
    writes marked aborted and files older than ``older_than_s`` go, so another run writing the
    same month at the same time keeps its files. Files of landed writes are kept, including
    those only older versions use.
    """
    import pyarrow.fs as pafs

    fs = location.filesystem()
    aborted = aborted_write_ids(location) if write_id is None else set()
    landed: dict[str, bool] = {}
    removed = []
    now_ns = time.time_ns()
    for month in months:
        selector = pafs.FileSelector(
            f"{location.path}/{PARTITION_COLUMN}={month}", allow_not_found=True
        )
        for info in fs.get_file_info(selector):
            name = info.base_name
            if info.type != pafs.FileType.File or not name.startswith("part-"):
                continue
            owner = name.split("-")[1]
            if write_id is not None and owner != write_id:
                continue
            age_s = (now_ns - (info.mtime_ns or now_ns)) / 1e9
            if write_id is None and age_s < older_than_s and owner not in aborted:
                continue
            if owner not in landed:
                landed[owner] = commit_landed(location, owner)
            if not landed[owner]:
                with contextlib.suppress(FileNotFoundError, OSError):
                    fs.delete_file(info.path)
                    removed.append(info.path)
    return removed


def delete_files(location: Location, files: list[WrittenFile]) -> None:
    fs = location.filesystem()
    for f in files:
        with contextlib.suppress(FileNotFoundError, OSError):  # never written, or already gone
            fs.delete_file(f"{location.path}/{f.path}")
