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

from amazing_assets.defs.ingestion.parsing import header_name
from amazing_assets.lib.schema import EVENT_COLUMNS
from amazing_assets.lib.storage import Location

CSV_SUFFIXES = (".csv", ".csv.gz")
HEADER_PROBE_BYTES = 64 * 1024
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
    """The first bytes of an export (decompressed, without a UTF-8 byte-order mark)."""
    try:
        with fs.open_input_stream(path, compression=compression) as stream:
            head = stream.read(HEADER_PROBE_BYTES)
    except OSError as error:
        raise LandingFormatError(
            f"{name}: cannot be read ({error}); if it is a truncated or corrupt .gz, re-export or "
            "re-upload it"
        ) from error
    return head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head


def parse_header(head: bytes, name: str) -> tuple[str, ...]:
    """Validate the header line at the start of ``head``; the error says what to do."""
    if not head.strip():
        raise LandingFormatError(
            f"{name}: the file is empty; re-export it or remove it from the landing zone"
        )
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LandingFormatError(
            f"{name}: line 1 is not UTF-8 ({error}); re-export the file as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
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
        raise LandingFormatError(
            f"{name}: header line 1 lacks required column(s) {missing}; found {list(columns)}. "
            f"Export the REES46 columns {list(EVENT_COLUMNS)} (extra columns are ignored)."
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
    lines = head.split(b"\n")[1:-1]  # the last piece may be a line cut by the probe
    texts = [line.decode("utf-8", "replace").rstrip("\r") for line in lines if line.strip()]
    sample = list(csv.reader(texts[:INDEX_PROBE_LINES]))
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
