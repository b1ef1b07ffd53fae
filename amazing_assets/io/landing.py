"""The landing zone: where monthly exports arrive (``<landing>/YYYY-MM/*.csv[.gz]``).

Driver-side only: lists a month's files and validates each header before Spark reads anything,
so a wrong file fails fast with a message naming the file and what to do.
"""

from __future__ import annotations

import codecs
from dataclasses import asdict, dataclass

import pyarrow.fs as pafs

from amazing_assets.io.storage import Location
from amazing_assets.segmentation.schema import EVENT_COLUMNS

CSV_SUFFIXES = (".csv", ".csv.gz")
HEADER_PROBE_BYTES = 64 * 1024


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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LandingFile:
        return cls(**{**data, "columns": tuple(data["columns"])})


def month_location(landing: Location, month: str) -> Location:
    """``month`` is ``YYYY-MM``; the folder holding that month's exports."""
    return landing.child(month)


def list_month_files(landing: Location, month: str) -> list[LandingFile]:
    """The month's export files, sorted by name, each with a validated header."""
    folder = month_location(landing, month)
    fs = landing.filesystem()
    infos = fs.get_file_info(pafs.FileSelector(folder.path, allow_not_found=True, recursive=False))
    files = []
    for info in sorted(infos, key=lambda i: i.path):
        if info.type != pafs.FileType.File or not info.base_name.lower().endswith(CSV_SUFFIXES):
            continue
        compression = "gzip" if info.base_name.lower().endswith(".gz") else None
        name = f"{month}/{info.base_name}"
        columns = read_header(fs, info.path, compression, name)
        files.append(
            LandingFile(
                path=info.path,
                name=name,
                size=info.size or 0,
                mtime_ns=info.mtime_ns or 0,
                compression=compression,
                columns=columns,
            )
        )
    return files


def read_header(
    fs: pafs.FileSystem, path: str, compression: str | None, name: str
) -> tuple[str, ...]:
    """Read and validate the header line of an export."""
    try:
        with fs.open_input_stream(path, compression=compression) as stream:
            head = stream.read(HEADER_PROBE_BYTES)
    except OSError as error:
        raise LandingFormatError(
            f"{name}: cannot be read ({error}); re-export or re-upload it"
        ) from error
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    if not head.strip():
        raise LandingFormatError(
            f"{name}: the file is empty; re-export it or remove it from the landing zone"
        )
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        header = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LandingFormatError(
            f"{name}: the header is not UTF-8 ({error}); re-export the file as UTF-8"
        ) from error
    columns = tuple(c.strip().strip('"') for c in header.split(","))
    missing = [c for c in EVENT_COLUMNS if c not in columns]
    if missing:
        raise LandingFormatError(
            f"{name}: header line 1 lacks required column(s) {missing}; found {list(columns)}. "
            f"Export the REES46 columns {list(EVENT_COLUMNS)} (extra columns are ignored)."
        )
    return columns
