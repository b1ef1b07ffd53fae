"""Month-replacing commits that fail on a concurrent write of the same month, first writes too.

delta-rs' conflict checker (``CommitFailedError``) catches two overwrites that remove the same
files, but not two overwrites of a month the table does not hold yet: neither removes anything,
so both commit and the month doubles. Creating a table is worse: its commit is retried as a
plain append (``mode="error"`` included), so two first writes both land, and with
``mode="overwrite"`` one replaces the other's month. Two Delta mechanisms close both holes:

* every commit that replaces months carries one *application transaction* per month
  (``SetTransaction``, app id ``amazing-segments:month:YYYY-MM``). Delta's conflict checker fails
  a commit when a winning commit since its snapshot set an app id it sets too, whether or not
  the month held files (``Concurrent transaction failed``);
* a table's creation commits with no retry (``max_commit_retries=0``), so of two creations only
  one lands (version 0 is written only if absent, locally and with S3 conditional writes). The
  loser then commits on the table the winner created, through the conflict checker, unless the
  winner already wrote one of its months: that is a conflict, and the loser fails.

The snapshot of a Spark write is taken when the write is planned (before the job runs), so any
commit of the same month while the job ran fails this one. A failed commit is never retried
from a later version (its data may be stale): the run fails and a re-run recomputes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amazing_assets.lib.storage import Location

APP_ID = "amazing-segments"
MAX_COMMIT_RETRIES = 100
"""delta-rs re-checks each commit that landed since the snapshot; a long job may see many."""


class ConcurrentMonthWriteError(RuntimeError):
    """Another write of the same month committed first; this one committed nothing."""


def month_app_id(month: str) -> str:
    return f"{APP_ID}:month:{month}"


def current_version(location: Location) -> int | None:
    """The table's latest version, or None when there is no table yet."""
    from deltalake import DeltaTable

    options = location.storage_options()
    if not DeltaTable.is_deltatable(location.table_uri, storage_options=options):
        return None
    return DeltaTable(location.table_uri, storage_options=options).version()


def month_transactions(table, months: list[str]) -> list:
    """One app transaction per month, one version past the snapshot's."""
    from deltalake.transaction import Transaction

    transactions = []
    for month in sorted(set(months)):
        seen = table.transaction_version(month_app_id(month)) if table is not None else None
        transactions.append(Transaction(app_id=month_app_id(month), version=(seen or 0) + 1))
    return transactions


def months_moved(snapshot, latest, months: list[str]) -> list[str]:
    """The months whose app transaction changed between two versions of a table."""
    return [
        m
        for m in sorted(set(months))
        if latest.transaction_version(month_app_id(m))
        != snapshot.transaction_version(month_app_id(m))
    ]


def commit_months(
    location: Location,
    snapshot_version: int,
    months: list[str],
    commit: Callable[[Any, list], None],
) -> None:
    """Run ``commit(table_at_snapshot, month_transactions)``; any conflict fails the write.

    No retry from a later version: a commit that touched this write's files or months since
    the snapshot (another write of the month, an erasure's rewrite, a roll-back) means the
    write's data may be stale, so the run fails and a re-run recomputes it.
    """
    from deltalake import DeltaTable
    from deltalake.exceptions import CommitFailedError

    options = location.storage_options()
    table = DeltaTable(location.table_uri, version=snapshot_version, storage_options=options)
    try:
        commit(table, month_transactions(table, months))
    except CommitFailedError as error:
        latest = DeltaTable(location.table_uri, storage_options=options)
        snapshot = DeltaTable(location.table_uri, version=snapshot_version, storage_options=options)
        moved = months_moved(snapshot, latest, months)
        raise ConcurrentMonthWriteError(
            f"a concurrent write of {', '.join(moved or months)} in {location.uri} committed "
            f"first (Delta conflict: {str(error).splitlines()[0]}); nothing of this write was "
            "committed. Re-run the month once the other run has finished."
        ) from error


def first_commit(
    location: Location,
    months: list[str],
    create: Callable[[list, int], None],
    commit: Callable[[Any, list], None],
    same_schema: Callable[[Any], bool],
) -> None:
    """Create the table with ``create(month_transactions, max_commit_retries)``; if another
    creation won the race, commit on its table with ``commit`` (see :func:`commit_months`)."""
    from deltalake import DeltaTable

    try:
        create(month_transactions(None, months), 0)
        return
    except Exception as error:  # "already exists", or the CommitFailedError of a lost race
        options = location.storage_options()
        if not DeltaTable.is_deltatable(location.table_uri, storage_options=options):
            raise
        latest = DeltaTable(location.table_uri, storage_options=options)
        written = [m for m in sorted(set(months)) if latest.transaction_version(month_app_id(m))]
        if written or not same_schema(latest):
            raise ConcurrentMonthWriteError(
                f"a concurrent write of {', '.join(written or months)} in {location.uri} "
                "created the table first"
                + ("" if written else " with another schema")
                + "; nothing of this write was committed. Re-run the month once the other run "
                "has finished."
            ) from error
        commit_months(location, latest.version(), months, commit)
