"""Erasure in Dagster's own storage: runs whose records name an erased customer are deleted.

Dagster keeps every run's event log (log messages, failures with their error text, metadata)
in the instance's storage for good, and compute logs beside it. A message that quoted a data
line (an exception, a header mistaken for data) puts a raw id there, out of reach of the
warehouse's erasure. Dagster has no API to redact a stored record, so the erasure scans every
run's records through the public :class:`dagster.DagsterInstance` API
(``get_runs``, ``get_records_for_run``) and deletes each run that mentions a customer with
``instance.delete_run`` (its records, its asset events), and its compute logs.

What is kept: every other run, untouched; the deleted runs' work (the tables) is not undone.
What is lost with a deleted run: its history in the UI (a month's materialisation may show as
never materialised until its next run). The run doing the erasure is never deleted; it logs
counts only.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator

import dagster as dg

PAGE = 1_000


def mentions_pattern(user_ids: Iterable[int], texts: Iterable[str]) -> re.Pattern[str]:
    """A raw id as a whole number (leading zeros and ``.0`` allowed, not inside a longer number
    or a decimal), or any of ``texts`` (tokens, sessions) verbatim."""
    ids = "|".join(str(int(i)) for i in user_ids)
    alternatives = [rf"(?<![\d.])0*(?:{ids})(?:\.0+)?(?![\d]|\.\d)"] if ids else []
    alternatives += [re.escape(t) for t in texts if t]
    return re.compile("|".join(alternatives) or r"(?!x)x")


def run_texts(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Iterator[str]:
    """The run itself (config, tags) and each of its event records, serialised."""
    yield dg.serialize_value(run)
    cursor = None
    while True:
        connection = instance.get_records_for_run(run.run_id, cursor=cursor, limit=PAGE)
        for record in connection.records:
            yield dg.serialize_value(record.event_log_entry)
        if not connection.has_more:
            return
        cursor = connection.cursor


def runs_mentioning(
    instance: dg.DagsterInstance, pattern: re.Pattern[str], keep_run_id: str | None = None
) -> list[str]:
    """Ids of the runs any of whose records matches ``pattern`` (``keep_run_id`` skipped)."""
    found, cursor = [], None
    while True:
        runs = instance.get_runs(cursor=cursor, limit=PAGE)
        for run in runs:
            if run.run_id == keep_run_id or not run.is_finished:
                continue  # a live run is not deleted under its own feet (erase between runs)
            if any(pattern.search(t) for t in run_texts(instance, run)):
                found.append(run.run_id)
        if len(runs) < PAGE:
            return found
        cursor = runs[-1].run_id


def forget_runs(instance: dg.DagsterInstance, run_ids: list[str]) -> None:
    """Delete the runs, their event records and their compute logs."""
    for run_id in run_ids:
        # A compute log manager that cannot delete raises NotImplementedError: records still go.
        with contextlib.suppress(NotImplementedError):
            instance.compute_log_manager.delete_logs(prefix=[run_id])
        instance.delete_run(run_id)
