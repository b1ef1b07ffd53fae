"""Spark 4 Python data source ``amazing_landing``: monthly CSV exports streamed with pyarrow.

One code path for local disk and S3 (no Hadoop S3 connector needed), and the fast one: pyarrow
parses CSV several times faster than Spark's CSV reader on these machines (docs/architecture.md).

``raw_events`` does not go through Spark's reader: its tasks call :func:`read_split` directly
and write the rows where they are parsed (:mod:`.landing_ingest`). The data
source serves a rejected month's defective rows and ad-hoc reads, on the same parser.

Uncompressed files are split into byte ranges (``split_bytes``, default 128 MiB) so a 5.7 GB
month reads in parallel; a range starts after the first newline at or after its start and ends
with the line that crosses its end, so every line is read exactly once. Gzip files are one split.

Every row comes out: well-formed rows typed, rows the parser cannot split into the header's
fields (e.g. a line cut off mid-file) as defect rows with their text (see
:mod:`amazing_assets.defs.ingestion.parsing`).

Lines that are not rows do not come out: empty lines, and copies of the header line inside the
data (exports joined with ``cat``, each with its header). So the rows of a file are its data
lines, and ``data lines = kept + Σ dropped by reason`` downstream. A header line with another
column layout than the file's first one fails the file: the rows after it would be read into
the wrong columns.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NoReturn

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.types import StructType

from amazing_assets.defs.ingestion.bounded_lines import (
    MAX_ROW_BYTES,
    BoundedLines,
    ExportTooLargeError,
)
from amazing_assets.defs.ingestion.landing import LandingFile
from amazing_assets.defs.ingestion.landing_open import ExportChangedError, open_export
from amazing_assets.defs.ingestion.parsing import (
    defective_lines,
    header_like_rows,
    header_name,
    repeated_header_rows,
    type_events,
)
from amazing_assets.lib.columns import selected_columns
from amazing_assets.lib.schema import (
    DEFECT_ROW_TOO_LONG,
    DEFECT_UNCLOSED_QUOTE,
    DEFECT_WRONG_FIELD_COUNT,
    EVENT_COLUMNS,
    PARSED_EVENT_SCHEMA,
)
from amazing_assets.lib.storage import LOCATION_OPTION, Location

FORMAT_NAME = "amazing_landing"
DEFAULT_SPLIT_BYTES = 128 * 1024 * 1024
BLOCK_SIZE = 8 * 1024 * 1024


class LandingCsvDataSource(DataSource):
    """Options: ``location`` (landing root), ``files`` (JSON list of LandingFile dicts)."""

    @classmethod
    def name(cls) -> str:
        return FORMAT_NAME

    def schema(self) -> StructType:
        from pyspark.sql.pandas.types import from_arrow_schema

        return from_arrow_schema(output_schema(self.options.get("columns")))

    def reader(self, schema: StructType) -> DataSourceReader:
        files = [LandingFile.from_dict(d) for d in json.loads(self.options.get("files", "[]"))]
        return LandingCsvReader(
            location=Location.from_option(self.options[LOCATION_OPTION]),
            files=files,
            split_bytes=int(self.options.get("split_bytes", DEFAULT_SPLIT_BYTES)),
            columns=output_schema(self.options.get("columns")).names,
        )


def register_landing_source(session) -> None:
    """Register ``amazing_landing`` on ``session`` (idempotent: registering again replaces it)."""
    session.dataSource.register(LandingCsvDataSource)


def output_schema(columns: str | None) -> pa.Schema:
    """:data:`PARSED_EVENT_SCHEMA`, or only the comma-separated ``columns`` option of it.

    Every row is still parsed and typed whole (a defect in any field codes the row); only the
    named columns cross to the JVM.
    """
    return selected_columns(PARSED_EVENT_SCHEMA, columns, FORMAT_NAME)


@dataclass
class FileSplit(InputPartition):
    file: LandingFile
    start: int
    end: int | None  # None: to the end of the file


def plan_splits(files: list[LandingFile], split_bytes: int) -> list[FileSplit]:
    splits: list[FileSplit] = []
    for f in files:
        if f.compression or f.size <= split_bytes:
            splits.append(FileSplit(file=f, start=0, end=None))
            continue
        starts = list(range(0, f.size, split_bytes))
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else None
            splits.append(FileSplit(file=f, start=start, end=end))
    return splits


class LandingCsvReader(DataSourceReader):
    def __init__(
        self,
        location: Location,
        files: list[LandingFile],
        split_bytes: int,
        columns: list[str] | None = None,
    ) -> None:
        self.location = location
        self.files = files
        self.split_bytes = split_bytes
        self.columns = columns or PARSED_EVENT_SCHEMA.names

    def partitions(self) -> Sequence[InputPartition]:
        splits = plan_splits(self.files, self.split_bytes)
        return splits or [FileSplit(file=None, start=0, end=0)]  # type: ignore[arg-type]

    # Spark passes back the partitions that partitions() returned, hence the narrower type.
    def read(self, partition: FileSplit) -> Iterator[pa.RecordBatch]:  # type: ignore[override]
        if partition.file is None:
            return
        whole = self.columns == PARSED_EVENT_SCHEMA.names
        for batch in read_split(self.location.filesystem(), partition):
            yield batch if whole else batch.select(self.columns)


LANDING_READ_ERROR = "LandingReadError"


class LandingReadError(ValueError):
    """A file failed while being parsed; the message names it and what to do.

    Raised inside Spark tasks, so the driver sees it wrapped in a PythonException whose text
    contains ``LandingReadError: <message>``; :func:`landing_read_error` extracts it.
    """


def landing_read_error(error: BaseException) -> str | None:
    """The LandingReadError message of ``error`` or inside a Spark exception, if there is one."""
    if isinstance(error, LandingReadError):
        return str(error)
    text = str(error)
    marker = f"{LANDING_READ_ERROR}: "
    if marker not in text:
        return None
    return text.split(marker, 1)[1].splitlines()[0].strip()


def read_split(fs, split: FileSplit) -> Iterator[pa.RecordBatch]:
    """Parse one split; yields batches with :data:`PARSED_EVENT_SCHEMA`."""
    try:
        yield from _parse_split(fs, split)
    except (pa.ArrowInvalid, OSError, EOFError) as error:
        raise LandingReadError(_explain(split.file.name, error)) from error


def _explain(name: str, error: BaseException) -> str:
    if isinstance(error, ExportTooLargeError | ExportChangedError):
        return str(error)
    text = _without_row_text(str(error).replace("\n", " "))
    if "UTF8" in text or "utf-8" in text.lower():
        return (
            f"{name} is not UTF-8 ({text[:160]}); re-export it as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
        )
    if "gzip" in text.lower() or isinstance(error, EOFError) or "compress" in text.lower():
        return f"{name} is a truncated or corrupt gzip file ({text[:160]}); re-upload the export"
    return f"{name} cannot be parsed as CSV ({text[:200]}); check the export"


def _without_row_text(text: str) -> str:
    """A parser error without the row it may quote ("Expected 9 columns, got 3: <the row>"):
    the message reaches the run's event log and the log stream."""
    return _QUOTED_ROW.sub(r"\1 (row text withheld)", text)


_QUOTED_ROW = re.compile(r"(got \d+)\s*:.*$")


def _parse_split(fs, split: FileSplit) -> Iterator[pa.RecordBatch]:
    f = split.file
    # Not a link, and the size and time of the listing, when opened and once read.
    opened = open_export(fs, f)
    try:
        if f.compression:
            raw = opened.handle
        else:
            raw = _LineAlignedRange(opened.handle, split.start, split.end)
            if raw.holds_no_line:
                # The range starts inside the file's last line, or inside a line longer than
                # the range: that line belongs to an earlier range and this one has no rows (the
                # CSV reader would call it an empty file).
                raw.close()
                opened.check_unchanged()
                return
        yield from parse_export(
            raw, f, skip_header=split.start == 0, compressed_size=f.size if f.compression else None
        )
        opened.check_unchanged()
    finally:
        opened.release()


def parse_export(
    raw,
    f: LandingFile,
    *,
    skip_header: bool = True,
    max_row_bytes: int = MAX_ROW_BYTES,
    compressed_size: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of ``raw`` (a binary stream of ``f``'s lines; its first line is the header when
    ``skip_header``), typed, with every physical line one row: kept, or a defect row with its
    text (a line that leaves a quote open, is too long or has the wrong field count).

    Pure: no filesystem, so the line rules are tested on generated bytes. Closes ``raw``.
    """
    invalid: list[str] = []

    def on_invalid_row(row) -> str:
        invalid.append(row.text)
        return "skip"

    # Overlong lines and lines that leave a quote open are set aside (quarantined below), the
    # header line dropped, a .gz capped in decompressed size.
    stream = BoundedLines(
        raw,
        name=f.name,
        max_row_bytes=max_row_bytes,
        compressed_size=compressed_size,
        skip_first_line=skip_header,
    )
    with stream:
        if stream.at_end():  # nothing but set-aside lines (the CSV reader: "empty file")
            yield from _set_aside(stream, f)
            return
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=list(f.field_names),
                block_size=BLOCK_SIZE,
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in f.field_names},
                include_columns=list(EVENT_COLUMNS),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        for batch in reader:
            batch = without_header_lines(batch, f)
            if batch.num_rows:
                yield type_events(batch, f.name)
            if invalid:
                yield from _defective(invalid, f)
            yield from _set_aside(stream, f)
        yield from _set_aside(stream, f)
    if invalid:
        yield from _defective(invalid, f)


def _set_aside(stream: BoundedLines, f: LandingFile) -> Iterator[pa.RecordBatch]:
    yield from _overlong(stream, f)
    unclosed = stream.drain_unclosed()
    if unclosed:
        yield defective_lines(unclosed, DEFECT_UNCLOSED_QUOTE, f.name)


def _overlong(stream: BoundedLines, f: LandingFile) -> Iterator[pa.RecordBatch]:
    """Lines over the maximum row size, as defect rows (their first KiB kept)."""
    lines = stream.drain_overlong()
    if lines:
        yield defective_lines(lines, DEFECT_ROW_TOO_LONG, f.name)


def without_header_lines(batch: pa.RecordBatch, f: LandingFile) -> pa.RecordBatch:
    """``batch`` without the copies of the header line; refuses a header of another layout."""
    header_like = header_like_rows(batch)
    if not pc.any(header_like).as_py():
        return batch
    repeated = repeated_header_rows(batch)
    foreign = pc.and_(header_like, pc.invert(repeated))
    if pc.any(foreign).as_py():
        index = pc.index(foreign, True).as_py()
        _refuse_foreign_header(f, [batch.column(c)[index].as_py() or "" for c in EVENT_COLUMNS])
    return batch.filter(pc.invert(repeated))


def _defective(invalid: list[str], f: LandingFile) -> Iterator[pa.RecordBatch]:
    """Lines of the wrong field count as defect rows, once header lines are taken out (a header
    without the index column the rows carry is the file's header again; any other is refused).
    Empties ``invalid``."""
    lines = [line for line in invalid if not _is_header_line(line, f)]
    invalid.clear()
    if lines:
        yield defective_lines(lines, DEFECT_WRONG_FIELD_COUNT, f.name)


def _is_header_line(line: str, f: LandingFile) -> bool:
    # Column names hold no comma, so a plain split reads a header; it never fails on a long or
    # oddly quoted data line (csv.reader raised "field larger than field limit" out of the task).
    fields = line.split(",")
    names = tuple(header_name(field) for field in fields)
    if names == f.columns:
        return True
    if set(EVENT_COLUMNS) <= set(names):
        _refuse_foreign_header(f, fields)
    return False


def _refuse_foreign_header(f: LandingFile, fields: list[str]) -> NoReturn:
    """Fail the file; the message describes the line by its shape, never by its text (a line
    taken for a header may be an event: its id and session would reach the logs)."""
    raise LandingReadError(
        f"{f.name} holds a header line with another column layout than its first line "
        f"({describe_layout(fields)}; the first line: {len(f.columns)} columns): it joins "
        "exports with different headers, whose rows would be read into the wrong columns. Put "
        "each export in its own file of the month folder"
    )


def describe_layout(fields: list[str]) -> str:
    """A line's shape for a message: its field count and where the REES46 column names stand;
    any other field shows as ``?`` (it may be data)."""
    names = [header_name(field) for field in fields]
    shown = [n if n in EVENT_COLUMNS else "?" for n in names]
    return f"{len(fields)} fields: {','.join(shown)[:300]}"


class _LineAlignedRange(io.RawIOBase):
    """A read-only view of ``[start, end)`` of a file, widened to whole lines.

    Skips the partial line at ``start`` (it belongs to the previous range) unless ``start`` is 0,
    and reads past ``end`` to the end of the line that crosses it.
    """

    CHUNK = 4 * 1024 * 1024

    def __init__(self, handle, start: int, end: int | None) -> None:
        super().__init__()
        self.handle = handle
        self.end = end
        self.pos = start
        self.done = False
        self.pending = b""
        handle.seek(start)
        if start > 0:
            # The byte before start tells whether start is already a line start.
            handle.seek(start - 1)
            self.pos = start - 1
            self._skip_to_next_line()

    def _skip_to_next_line(self) -> None:
        while True:
            chunk = self.handle.read(self.CHUNK)
            if not chunk:
                self.done = True
                return
            newline = chunk.find(b"\n")
            if newline >= 0:
                self.pending = chunk[newline + 1 :]
                self.pos += newline + 1
                if self.end is not None and self.pos >= self.end:
                    # The range holds no line start: the line belongs to the previous range.
                    self.done, self.pending = True, b""
                return
            self.pos += len(chunk)

    @property
    def holds_no_line(self) -> bool:
        """True when the range has nothing to read: no line starts inside it, or the file ends
        right where it starts. Peeks at most one chunk (kept for the reader)."""
        if not self.pending and not self.done:
            self.pending = self.handle.read(self.CHUNK)  # not yet counted, like any pending data
            self.done = not self.pending
        return not self.pending

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read_some(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _read_some(self, size: int) -> bytes:
        if self.pending:
            data, self.pending = self.pending[:size], self.pending[size:]
            return self._clip(data)
        if self.done:
            return b""
        return self._clip(self.handle.read(min(size, self.CHUNK)))

    def _clip(self, data: bytes) -> bytes:
        """Stop after the newline that ends the line crossing ``end``."""
        if not data:
            self.done = True
            return data
        start_pos = self.pos
        self.pos += len(data)
        if self.end is None or self.pos <= self.end:
            return data
        # Every line starting before ``end`` is ours: finish the one holding byte end-1.
        search_from = max(0, self.end - 1 - start_pos)
        newline = data.find(b"\n", search_from)
        if newline < 0:
            return data  # the crossing line continues into the next read
        self.done, self.pending = True, b""
        return data[: newline + 1]

    def close(self) -> None:
        self.handle.close()
        super().close()
