"""The landing zone: where monthly exports arrive (``<landing>/YYYY-MM/*.csv[.gz]``).

Driver-side only: lists a month's files and validates each header before Spark reads anything,
so a wrong file fails fast with a message naming the file and what to do.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
from dataclasses import asdict, dataclass

import pyarrow.fs as pafs

from amazing_assets.defs.ingestion.bounded_lines import MAX_ROW_BYTES
from amazing_assets.defs.ingestion.line_rules import normalise_line_ends
from amazing_assets.defs.ingestion.parsing import header_name
from amazing_assets.lib.schema import EVENT_COLUMNS
from amazing_assets.lib.storage import Location

CSV_SUFFIXES = (".csv", ".csv.gz")
HEADER_PROBE_BYTES = 64 * 1024
"""Bytes read after the header line to look at the first data lines."""
MAX_HEADER_BYTES = MAX_ROW_BYTES
"""The header is read to its line end, up to this: a longer one is no export's header (and
would not fit the parser's row limit)."""
EDGE_BYTES = 1024 * 1024
# A first line that starts like an event row (a timestamp) means the header is missing.
DATA_LINE = re.compile(r"^\s*\"?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
# Data lines looked at to tell whether rows carry an index column the header does not name.
INDEX_PROBE_LINES = 20
INDEX_VALUE = re.compile(r"^\s*\d+\s*$")


class LandingFormatError(ValueError):
    """A landing file cannot be ingested as it is; the message says which file and why."""


@dataclass(frozen=True)
class LandingFile:
    """One export file, with what the readers need to parse it."""

    path: str  # path inside the landing location's filesystem
    name: str  # path relative to the landing root, for messages and provenance
    size: int
    mtime_ns: int
    compression: str | None  # "gzip" or None
    columns: tuple[str, ...]  # header names as found (BOM removed)
    # Rows carry one more field than the header names, in front: a row number written without
    # a header name (pandas ``to_csv(index_label=False)``, some R and spreadsheet exports).
    unnamed_index: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        """The name of each field of a data row, in file order (the index one has none)."""
        return ("", *self.columns) if self.unnamed_index else self.columns

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LandingFile:
        return cls(**{**data, "columns": tuple(data["columns"])})


def month_location(landing: Location, month: str) -> Location:
    """``month`` is ``YYYY-MM``; the folder holding that month's exports."""
    return landing.child(month)


def list_month_files(landing: Location, month: str) -> list[LandingFile]:
    """The month's export files, sorted by name, each with a validated header.

    Raises :class:`LandingFormatError` for a file that cannot be ingested as it is, and when two
    files of the month are the same export dropped twice (their rows would all be duplicates).
    """
    folder = month_location(landing, month)
    fs = landing.filesystem()
    refuse_link(landing, folder.path, f"the folder {month}/")
    infos = fs.get_file_info(pafs.FileSelector(folder.path, allow_not_found=True, recursive=False))
    files = []
    for info in sorted(infos, key=lambda i: i.path):
        if info.type != pafs.FileType.File or not info.base_name.lower().endswith(CSV_SUFFIXES):
            continue
        refuse_link(landing, info.path, f"{month}/{info.base_name}")
        compression = "gzip" if info.base_name.lower().endswith(".gz") else None
        name = f"{month}/{info.base_name}"
        head = read_head(fs, info.path, compression, name)
        columns = parse_header(head, name)
        files.append(
            LandingFile(
                path=info.path,
                name=name,
                size=info.size or 0,
                mtime_ns=info.mtime_ns or 0,
                compression=compression,
                columns=columns,
                unnamed_index=rows_carry_unnamed_index(head, columns),
            )
        )
    refuse_copies(fs, files)
    return files


def refuse_link(landing: Location, path: str, name: str) -> None:
    """A symbolic link in a local landing zone could make the pipeline read (and echo in its
    errors) any file of the machine: exports must be placed there, not linked."""
    if not landing.is_s3 and os.path.islink(path):
        raise LandingFormatError(
            f"{name} is a symbolic link; links are refused in the landing zone. Copy or move "
            "the export itself into the month's folder."
        )


def read_header(
    fs: pafs.FileSystem, path: str, compression: str | None, name: str
) -> tuple[str, ...]:
    """Read and validate the header line of an export; the error says what to do."""
    return parse_header(read_head(fs, path, compression, name), name)


def read_head(fs: pafs.FileSystem, path: str, compression: str | None, name: str) -> bytes:
    """The header line and the first data lines of an export (decompressed, without a UTF-8
    byte-order mark): read up to the header's line end, then :data:`HEADER_PROBE_BYTES` more.

    Refuses a header longer than :data:`MAX_HEADER_BYTES`: a fixed probe used to cut a wide
    header (10,000 columns), and every row then failed with advice about the wrong problem.
    """
    limit = MAX_HEADER_BYTES + len(codecs.BOM_UTF8)
    try:
        with fs.open_input_stream(path, compression=compression) as stream:
            head, end = b"", None
            while end is None and len(head) <= limit:
                chunk = stream.read(HEADER_PROBE_BYTES)
                if not chunk:
                    break
                head += chunk
                end = first_line_end(head)
            if (end is None and len(head) > limit) or (end is not None and end > limit):
                raise LandingFormatError(
                    f"{name}: the header line (line 1) is longer than {MAX_HEADER_BYTES:,} "
                    "bytes; no REES46 header is (9 short column names). Check that the file is "
                    "a CSV export with one header line, or export only the columns needed"
                )
            if end is not None:
                head += stream.read(max(0, end + HEADER_PROBE_BYTES - len(head)))
    except OSError as error:
        raise LandingFormatError(
            f"{name}: cannot be read ({error}); if it is a truncated or corrupt .gz, re-export or "
            "re-upload it"
        ) from error
    return head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head


def first_line_end(data: bytes) -> int | None:
    """Where the first line of ``data`` ends (LF, CRLF or a lone CR), or None if it does not."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    return min(ends) if ends else None


def parse_header(head: bytes, name: str) -> tuple[str, ...]:
    """Validate the header line at the start of ``head``; the error says what to do.

    Messages never quote the line: for a file without a header it is an event (a customer's
    id and session), and the message reaches the run's event log and the log stream. They say
    what an operator can act on instead: the field count, the required names missing.
    """
    if not head.strip():
        raise LandingFormatError(
            f"{name}: the file is empty; re-export it or remove it from the landing zone"
        )
    end = first_line_end(head)
    first_line = head if end is None else head[:end]
    try:
        header = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LandingFormatError(
            f"{name}: line 1 is not UTF-8 (byte {error.start + 1} of the line); re-export the "
            "file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
        ) from error
    columns = tuple(header_name(c) for c in header.split(","))
    if DATA_LINE.match(header):
        raise LandingFormatError(
            f"{name}: line 1 is a data row, not a header; add the header line "
            f"{','.join(EVENT_COLUMNS)} (the REES46 export has one)"
        )
    for delimiter, label in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if len(columns) == 1 and all(c in header.split(delimiter) for c in EVENT_COLUMNS):
            raise LandingFormatError(
                f"{name}: fields are separated by {label}s, not commas; export comma-separated "
                "values (decimal points, not commas)"
            )
    missing = [c for c in EVENT_COLUMNS if c not in columns]
    if missing:
        present = len(EVENT_COLUMNS) - len(missing)
        raise LandingFormatError(
            f"{name}: header line 1 lacks required column(s) {missing}; it has {len(columns)} "
            f"field(s), {present} of them named like a required column"
            + (" (is line 1 a data row? an export without its header line)" if not present else "")
            + f". Export the REES46 columns {list(EVENT_COLUMNS)} (extra columns are ignored)."
        )
    duplicated = sorted({c for c in columns if columns.count(c) > 1 and c in EVENT_COLUMNS})
    if duplicated:
        raise LandingFormatError(
            f"{name}: header names {duplicated} more than once; keep one of each"
        )
    return columns


def rows_carry_unnamed_index(head: bytes, columns: tuple[str, ...]) -> bool:
    """True when most of the first data lines have one field more than the header, and it is a
    row number: the export wrote its index without naming it in the header.

    Without this every row would be a ``wrong_field_count``; with it the index is ignored like
    any other extra column.
    """
    lines = normalise_line_ends(head).split(b"\n")[1:-1]  # the last may be cut by the probe
    texts = [line.decode("utf-8", "replace").rstrip("\r") for line in lines if line.strip()]
    try:
        sample = list(csv.reader(texts[:INDEX_PROBE_LINES]))
    except csv.Error:  # lines the parser will quarantine; they tell nothing about an index
        return False
    indexed = [
        fields
        for fields in sample
        if len(fields) == len(columns) + 1 and INDEX_VALUE.match(fields[0])
    ]
    return len(indexed) * 2 > len(sample)


def refuse_copies(fs: pafs.FileSystem, files: list[LandingFile]) -> None:
    """Two files of equal size whose first and last MiB match are one export dropped twice."""
    seen: dict[tuple, str] = {}
    for f in files:
        key = (f.size, f.compression, _edges_digest(fs, f))
        if key in seen:
            raise LandingFormatError(
                f"{f.name} is a copy of {seen[key]} (same size and content); remove one of them "
                "(two different files for one month are fine: both are ingested)"
            )
        seen[key] = f.name


def _edges_digest(fs: pafs.FileSystem, f: LandingFile) -> str:
    digest = hashlib.sha256()
    with fs.open_input_file(f.path) as handle:
        digest.update(handle.read(EDGE_BYTES))
        if f.size > 2 * EDGE_BYTES:
            handle.seek(f.size - EDGE_BYTES)
            digest.update(handle.read(EDGE_BYTES))
    return digest.hexdigest()
