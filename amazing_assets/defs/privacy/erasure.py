"""Erasure on request (GDPR art. 17): forget customers in every table, version and log.

Given raw user ids, and nothing else, :func:`erase_customers`:

1. finds the customers' raw sessions in ``raw_events`` and computes their pseudonymous tokens
   (user and session) with the pipeline's key;
2. deletes their rows from every Delta table of the warehouse, whatever its month, by the
   columns the table has: raw ids and sessions (raw zone), tokens (everything after it), and
   text lines that quote them (quarantine, rejected rows);
3. adds the customers to the suppression list ``erased_customers`` (digests only, see
   ``defs/ingestion/suppression.py``), so a re-run of a month whose export still holds them,
   a backfill or a restored export does not bring them back;
4. removes every older version of each table it changed (vacuum with no retention, then a
   checkpoint and the log entries before it), so time travel cannot bring a row back;
5. lists the landing files that still hold the ids (the exports are the source of truth: the
   operator deletes or re-exports them; until then ingestion leaves the customers out);
6. returns an audit entry that names no customer: a SHA-256 digest of each token, and the rows
   removed per table.

Model artifacts hold centroids, not customers, and the app's CSV exports are made on demand from
the tables: neither needs rewriting.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.fs as pafs

from amazing_assets.defs.ingestion.bounded_lines import (
    MAX_COMPRESSION_RATIO,
    MAX_DECOMPRESSED_BYTES,
)
from amazing_assets.defs.ingestion.id_fields import line_of_customers
from amazing_assets.defs.ingestion.suppression import SUPPRESSION_TABLE, customer_digest, suppress
from amazing_assets.lib.delta_tables import (
    confined_dataset,
    open_table,
    read_months,
    table_exists,
)
from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location

AUDIT_TABLE = "erasure_audit"
RAW_EVENTS = "raw_events"
# Text columns that may quote an export line (identifiers masked since, but older rows may not be).
LINE_COLUMNS = ("_raw_line", "line")
DEFAULT_LOG_RETENTION = "interval 30 days"
DEFAULT_FILE_RETENTION = "interval 7 days"
_USER_ID = re.compile(r"^[0-9]{1,19}$")
_SESSION = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""Sessions safe as SQL literals. Any length: they are matched by whole column or field, never by
substring, and a short one only where a line's fields are in place (``id_fields``)."""


class ErasureRequestError(ValueError):
    """The request cannot be processed as written (the message says why)."""


@dataclass
class ErasureReport:
    """What an erasure removed; names no customer (digests of tokens only)."""

    request_id: str
    customers: int
    customer_digests: list[str]
    rows_removed: dict[str, int] = field(default_factory=dict)
    landing_files: dict[str, int] = field(default_factory=dict)  # file → lines holding an id
    landing_scan_seconds: float = 0.0
    sessions: list[str] = field(default_factory=list, repr=False)  # raw: never in to_row
    erased_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_row(self) -> dict:
        return {
            "request_id": self.request_id,
            "erased_at": self.erased_at,
            "customers": self.customers,
            "customer_digests": json.dumps(self.customer_digests),
            "rows_removed": json.dumps(self.rows_removed, sort_keys=True),
            "landing_files_still_holding_customers": json.dumps(self.landing_files),
        }


def parse_user_ids(values: list[str | int]) -> list[int]:
    """Raw user ids as integers (``562076640`` or ``562076640.0``); anything else is refused."""
    ids = []
    for index, value in enumerate(values):
        text = str(value).strip().removesuffix(".0")
        if not _USER_ID.match(text):  # the value itself may be an id in another shape: not shown
            raise ErasureRequestError(f"user_ids[{index}] is not a user id (a whole number)")
        ids.append(int(text))
    if not ids:
        raise ErasureRequestError("the request names no user id")
    return sorted(set(ids))


class LandingScanTooLargeError(ErasureRequestError):
    """A landing export decompresses past the scan's bounds (a gzip bomb): refused."""


SCAN_RATIO_CHECK_AFTER_BYTES = 64 * 1024**2
"""The scan judges the ratio early: a bomb is refused after 64 MiB out (~2 s), not after 1 GiB
(the ingestion's bound, where a 1.1 GiB bomb took 29 s to scan)."""


@dataclass(frozen=True)
class ScanLimits:
    """Bounds of the landing scan on decompressed bytes: absolute, and relative to the
    compressed size once past ``ratio_after`` bytes (a real export compresses 5-10x)."""

    max_bytes: int = MAX_DECOMPRESSED_BYTES
    max_ratio: float = MAX_COMPRESSION_RATIO
    ratio_after: int = SCAN_RATIO_CHECK_AFTER_BYTES

    def check(self, name: str, read: int, compressed: int) -> None:
        ratio = read / max(compressed, 1)
        if read > self.max_bytes or (read > self.ratio_after and ratio > self.max_ratio):
            raise LandingScanTooLargeError(
                f"{name} decompresses to more than {read:,} bytes from {compressed:,} "
                f"(ratio {ratio:.0f}, limits {self.max_bytes:,} bytes and {self.max_ratio:.0f}x): "
                "no export is that large, so the erasure refuses to scan it. Delete or replace "
                "the file, then run the erasure again (no table was changed)"
            )


def delta_tables(warehouse: Location) -> list[str]:
    """Every Delta table under the warehouse, as paths relative to it (nested ones included)."""
    fs = warehouse.filesystem()
    selector = pafs.FileSelector(warehouse.path, allow_not_found=True, recursive=True)
    tables = set()
    for info in fs.get_file_info(selector):
        relative = info.path[len(warehouse.path) :].strip("/")
        if info.type == pafs.FileType.Directory and relative.endswith("_delta_log"):
            tables.add(relative.removesuffix("_delta_log").strip("/"))
    return sorted(t for t in tables if t and t not in (AUDIT_TABLE, SUPPRESSION_TABLE))


def sql_list(values: Sequence[str | int]) -> str:
    return ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in values)


def erasure_predicate(
    columns: set[str],
    ids: list[int],
    sessions: list[str],
    user_keys: list[str],
    session_keys: list[str],
    line_digests: dict[str, list[str]] | None = None,
    masked_line_digests: list[str] | None = None,
) -> str | None:
    """SQL predicate matching the customers' rows in a table with ``columns``, or None.

    Lines are matched exactly, never by substring (``LIKE '%1004%'`` also matched customer
    10045): ``line_digests`` holds, per line column, the MD5 of each line that
    :func:`lines_of_customers` found to belong to the customers. ``masked_line_digests``: MD5 of
    the quarantine's masked copies of those lines (:func:`masked_copies`), matched only on rows
    without a token (a keyed row is matched by its token).
    """
    clauses = []
    if "user_id" in columns:
        clauses.append(f"user_id IN ({sql_list(ids)})")
    if "user_session" in columns and sessions:
        clauses.append(f"user_session IN ({sql_list(sessions)})")
    if "user_key" in columns:
        clauses.append(f"user_key IN ({sql_list(user_keys)})")
    if "session_key" in columns and session_keys:
        clauses.append(f"session_key IN ({sql_list(session_keys)})")
    for column, digests in (line_digests or {}).items():
        if column in columns and digests:
            clauses.append(f"md5({column}) IN ({sql_list(digests)})")
    if masked_line_digests and {"_raw_line", "user_key"} <= columns:
        clauses.append(
            f"(user_key IS NULL AND md5(_raw_line) IN ({sql_list(masked_line_digests)}))"
        )
    return " OR ".join(clauses) or None


def masked_copies(warehouse: Location, ids: list[int], sessions: list[str]) -> list[str]:
    """MD5 of the quarantine's copy of each of the customers' defective raw lines.

    The quarantine masks a line's ids (:func:`line_without_identifiers`), so a line whose user id
    did not parse (one field too many) is stored without anything naming the customer, and
    without a token. Masking the raw zone's line the same way finds that copy, so the erasure
    leaves the quarantine as a re-run without the customer would write it."""
    import pyarrow.dataset as pads

    from amazing_assets.defs.cleaning.clean_tables import line_without_identifiers

    location = table_location(warehouse, RAW_EVENTS)
    if not table_exists(location):
        return []
    rows = (
        confined_dataset(location)
        .to_table(
            columns=["_raw_line", "user_id", "user_session"],
            filter=pads.field("_raw_line").is_valid(),
        )
        .to_pylist()
    )
    wanted, session_set = set(ids), set(sessions)
    masked = {
        line_without_identifiers(r["_raw_line"], r["user_id"], r["user_session"])
        for r in rows
        if line_of_customers(r["_raw_line"], wanted, session_set)
    }
    return sorted(hashlib.md5(line.encode()).hexdigest() for line in masked)


def lines_of_customers(
    location: Location, columns: set[str], ids: list[int], sessions: list[str]
) -> dict[str, list[str]]:
    """Per line column of the table: MD5 digests of the lines holding the customers, as whole
    fields by the parser's notion of an id, or holding one of their sessions as a whole field
    (:mod:`amazing_assets.defs.ingestion.id_fields`; never a substring). Only the few rows with a
    line are read."""
    import pyarrow.dataset as pads

    wanted, found = set(ids), {}
    session_set = set(sessions)
    dataset = confined_dataset(location)
    for column in LINE_COLUMNS:
        if column not in columns:
            continue
        lines = dataset.to_table(columns=[column], filter=pads.field(column).is_valid())
        matching = {
            line
            for line in lines.column(column).to_pylist()
            if line_of_customers(line, wanted, session_set)
        }
        found[column] = sorted(hashlib.md5(line.encode()).hexdigest() for line in matching)
    return found


def customer_sessions(warehouse: Location, ids: list[int]) -> list[str]:
    """The customers' raw sessions, from the raw zone (to find rows known by session only)."""
    location = table_location(warehouse, RAW_EVENTS)
    if not table_exists(location):
        return []
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    dataset = confined_dataset(location)
    found = dataset.to_table(
        columns=["user_session"], filter=pads.field("user_id").isin(ids)
    ).column("user_session")
    sessions = [s for s in pc.unique(found).to_pylist() if s]
    return sorted(s for s in sessions if _SESSION.match(s))


def forget_history(location: Location) -> None:
    """Drop every version but the latest: no retention for the vacuum and the log cleanup, then
    the table's usual retention again (time travel resumes from now)."""
    table = open_table(location)
    table.alter.set_table_properties(
        {
            "delta.logRetentionDuration": "interval 0 seconds",
            "delta.deletedFileRetentionDuration": "interval 0 seconds",
        }
    )
    table = open_table(location)
    table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    table.create_checkpoint()
    table.cleanup_metadata()
    table.alter.set_table_properties(
        {
            "delta.logRetentionDuration": DEFAULT_LOG_RETENTION,
            "delta.deletedFileRetentionDuration": DEFAULT_FILE_RETENTION,
        }
    )


def landing_files_holding(
    landing: Location,
    ids: list[int],
    chunk: int = 16 << 20,
    limits: ScanLimits | None = None,
) -> dict[str, int]:
    """Landing exports (``YYYY-MM/*.csv[.gz]``) with lines quoting an id as a field, and how many.

    Streamed in chunks: memory stays flat whatever the size of the exports. A field is an id as
    the parser reads one: leading zeros, a ``.0`` suffix, spaces and quotes around it. A ``.gz``
    whose output passes ``limits`` is refused (:class:`LandingScanTooLargeError`).
    """
    limits = limits or ScanLimits()
    pattern = re.compile(
        rb"(?:^|,)[ \t]*\"?[ \t]*0*(?:"
        + b"|".join(str(i).encode() for i in ids)
        + rb")(?:\.0+)?[ \t]*\"?[ \t]*(?=[,\r\n]|$)",
        re.MULTILINE,
    )
    fs = landing.filesystem()
    found: dict[str, int] = {}
    selector = pafs.FileSelector(landing.path, allow_not_found=True, recursive=True)
    for info in fs.get_file_info(selector):
        name = info.path[len(landing.path) :].strip("/")
        if info.type != pafs.FileType.File or not name.lower().endswith((".csv", ".csv.gz")):
            continue
        compression = "gzip" if name.lower().endswith(".gz") else None
        lines, tail, read = 0, b"", 0
        with fs.open_input_stream(info.path, compression=compression) as stream:
            while block := stream.read(chunk):
                read += len(block)
                if compression:
                    limits.check(name, read, info.size or 0)
                text = tail + block
                cut = text.rfind(b"\n") + 1
                lines += matching_lines(pattern, text[:cut])
                tail = text[cut:]
        lines += matching_lines(pattern, tail)
        if lines:
            found[name] = lines
    return found


def matching_lines(pattern: re.Pattern[bytes], text: bytes) -> int:
    """Lines of ``text`` that ``pattern`` matches (a chunk without a match costs one scan)."""
    if not pattern.search(text):
        return 0
    return sum(1 for line in text.split(b"\n") if pattern.search(line))


def erase_customers(
    warehouse: Location,
    landing: Location,
    raw_user_ids: list[str | int],
    key: bytes,
    request_id: str,
    scan_limits: ScanLimits | None = None,
) -> ErasureReport:
    """Forget ``raw_user_ids`` everywhere in the warehouse; report what was removed.

    The landing zone is scanned first: an export too large to scan refuses the request before
    any table changes. The customers join the suppression list before any row is deleted, so a
    run racing the erasure cannot bring them back either."""
    ids = parse_user_ids(raw_user_ids)
    started = time.perf_counter()
    landing_files = landing_files_holding(landing, ids, limits=scan_limits)
    scan_seconds = time.perf_counter() - started
    pseudonymizer = Pseudonymizer(key)
    sessions = customer_sessions(warehouse, ids)
    user_keys = [pseudonymizer.token(i) for i in ids]
    session_keys = [pseudonymizer.token(s) for s in sessions]
    report = ErasureReport(
        request_id=request_id,
        customers=len(ids),
        customer_digests=[customer_digest(t) for t in user_keys],
    )
    suppress(warehouse, report.customer_digests, request_id)
    masked = masked_copies(warehouse, ids, sessions)
    for name in delta_tables(warehouse):
        location = warehouse.child(*name.split("/"))
        columns = set(open_table(location).schema().to_arrow().names)
        lines = lines_of_customers(location, columns, ids, sessions)
        predicate = erasure_predicate(
            columns, ids, sessions, user_keys, session_keys, lines, masked
        )
        if predicate is None:
            continue
        metrics = open_table(location).delete(predicate)
        report.rows_removed[name] = int(metrics.get("num_deleted_rows", 0) or 0)
        forget_history(location)
    report.landing_files = landing_files
    report.sessions = sessions
    report.landing_scan_seconds = round(scan_seconds, 3)
    record_audit(warehouse, report)
    return report


def record_audit(warehouse: Location, report: ErasureReport) -> None:
    """Append the report to ``erasure_audit`` (pseudonymous: digests and counts only)."""
    from deltalake import write_deltalake

    location = warehouse.child(AUDIT_TABLE)
    write_deltalake(
        location.table_uri,
        pa.Table.from_pylist([report.to_row()]),
        mode="append",
        storage_options=location.storage_options() or None,
    )


def audit_entries(warehouse: Location) -> list[dict]:
    location = warehouse.child(AUDIT_TABLE)
    return read_months(location).to_pylist() if table_exists(location) else []
