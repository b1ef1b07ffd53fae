"""The suppression list: erased customers stay erased across re-runs, backfills and restores.

An erasure removes a customer from every table, but the month's export (the source of truth)
may still hold them, and so may an export re-delivered or restored from a backup. Without a
memory of the erasure, the next run of that month would bring the customer back. So the
erasure appends each customer to ``erased_customers`` (warehouse root, no raw zone needed):
one row per customer with :func:`customer_digest` of their token, a keyed one-way value. It
names no one: without the pseudonymisation key nobody can tell whose digest it is, and with the
key one can only check an id one already knows (which is what ingestion does).

Ingestion (``defs/ingestion/landing_ingest.py``) drops the rows of suppressed customers
before ``raw_events`` and counts them under :data:`ERASED_CUSTOMER`, so the rows are accounted
for (``data lines = stored rows + erased_customer``) without any table holding them. Defective
rows whose user id did not parse are matched by their line's fields
(:mod:`amazing_assets.defs.ingestion.id_fields`).

The list is an asset of the graph (:mod:`.erased_customers`), upstream of ``raw_events``; the
erasure job records its materialisations. This module stays free of Dagster: the filter below
is shipped to the ingestion's Spark tasks, whose Python workers import it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.defs.ingestion.id_fields import line_user_ids
from amazing_assets.lib.delta_tables import read_months, table_exists
from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location

SUPPRESSION_TABLE = "erased_customers"
ERASED_CUSTOMER = "erased_customer"
"""The accounted reason of a suppressed customer's rows (in ``raw_events``' metadata)."""


def customer_digest(token: str) -> str:
    """What the warehouse keeps of an erased customer: SHA-256 of the HMAC token, never the
    token (which every other table used to hold) nor the id."""
    return hashlib.sha256(token.encode()).hexdigest()


def suppressed_digests(warehouse: Location) -> frozenset[str]:
    """Every erased customer's digest (empty when nobody was ever erased)."""
    location = table_location(warehouse, SUPPRESSION_TABLE)
    if not table_exists(location):
        return frozenset()
    return frozenset(read_months(location).column("customer_digest").to_pylist())


def suppress(warehouse: Location, digests: Iterable[str], request_id: str) -> int:
    """Add ``digests`` to the list (those not there yet); return how many were added."""
    from deltalake import write_deltalake

    new = sorted(set(digests) - suppressed_digests(warehouse))
    if not new:
        return 0
    now = datetime.now(UTC).isoformat()
    location = table_location(warehouse, SUPPRESSION_TABLE)
    write_deltalake(
        location.table_uri,
        pa.table(
            {
                "customer_digest": new,
                "request_id": [request_id] * len(new),
                "erased_at": [now] * len(new),
            }
        ),
        mode="append",
        storage_options=location.storage_options() or None,
    )
    return len(new)


@dataclass(frozen=True)
class SuppressionFilter:
    """Takes suppressed customers' rows out of parsed export batches (runs in Spark tasks).

    Holds the key (needed to compute a row's digest) only when the list is not empty: a
    warehouse without erasures ships no key to the ingestion tasks.
    """

    key: bytes | None
    digests: frozenset[str]

    def __repr__(self) -> str:
        return f"SuppressionFilter({len(self.digests)} customers, key=***)"

    @property
    def active(self) -> bool:
        return bool(self.digests) and self.key is not None

    def suppressed_rows(self, batch: pa.RecordBatch) -> pa.Array:
        """True for rows of a suppressed customer: by parsed user id, else by the line."""
        pseudonymizer = Pseudonymizer(self.key or b"")
        user_ids = batch.column("user_id")
        distinct = [u for u in pc.unique(user_ids).to_pylist() if u is not None]
        erased_ids = [u for u in distinct if self.is_suppressed(pseudonymizer, u)]
        by_id = pc.fill_null(pc.is_in(user_ids, pa.array(erased_ids, user_ids.type)), False)
        lines = batch.column("_raw_line")
        unknown = pc.and_(pc.is_null(user_ids), pc.is_valid(lines))
        if not pc.any(unknown).as_py():
            return by_id
        by_line = [
            bool(text is not None and uid is None and self.line_is_suppressed(pseudonymizer, text))
            for text, uid in zip(lines.to_pylist(), user_ids.to_pylist(), strict=True)
        ]
        return pc.or_(by_id, pa.array(by_line, pa.bool_()))

    def is_suppressed(self, pseudonymizer: Pseudonymizer, user_id: int) -> bool:
        return customer_digest(pseudonymizer.token(user_id)) in self.digests

    def line_is_suppressed(self, pseudonymizer: Pseudonymizer, line: str) -> bool:
        return any(self.is_suppressed(pseudonymizer, u) for u in line_user_ids(line))

    def split(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, int]:
        """``batch`` without the suppressed customers' rows, and how many were taken out."""
        if not self.active or batch.num_rows == 0:
            return batch, 0
        suppressed = self.suppressed_rows(batch)
        erased = pc.sum(pc.cast(suppressed, pa.int64())).as_py() or 0
        return (batch.filter(pc.invert(suppressed)) if erased else batch), erased


NO_SUPPRESSION = SuppressionFilter(key=None, digests=frozenset())
