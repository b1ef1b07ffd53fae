"""Retention: how long old table versions and ingested exports are kept (GDPR storage limit).

* **Delta history**: every table keeps older versions for time travel and rollback; versions
  older than ``history_days`` are removed (vacuum, then the log entries before a checkpoint).
* **Landing exports**: a file of a month already ingested (``raw_events`` has it) whose last
  change is older than ``landing_days`` is deleted; ``None`` keeps exports forever.
* **Logs**: Elasticsearch indices expire by an ILM policy (``deploy/elasticsearch/setup.sh``).
"""

from __future__ import annotations

import time

import pyarrow.fs as pafs

from amazing_assets.defs.privacy.erasure import delta_tables
from amazing_assets.lib.delta_tables import month_row_counts, open_table, table_exists
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location


def vacuum_history(warehouse: Location, history_days: float) -> dict[str, int]:
    """Remove table versions older than ``history_days``; return files removed per table."""
    hours = max(0, int(history_days * 24))
    removed = {}
    for name in delta_tables(warehouse):
        table = open_table(warehouse.child(*name.split("/")))
        table.alter.set_table_properties(
            {
                "delta.logRetentionDuration": f"interval {hours} hours",
                "delta.deletedFileRetentionDuration": f"interval {hours} hours",
            }
        )
        files = table.vacuum(retention_hours=hours, enforce_retention_duration=False, dry_run=False)
        table.create_checkpoint()
        table.cleanup_metadata()
        removed[name] = len(files)
    return removed


def expire_landing(landing: Location, warehouse: Location, landing_days: float) -> list[str]:
    """Delete exports of ingested months unchanged for ``landing_days``; return their names."""
    raw = table_location(warehouse, "raw_events")
    ingested = set(month_row_counts(raw)) if table_exists(raw) else set()
    cutoff_ns = time.time_ns() - int(landing_days * 86_400 * 1e9)
    fs = landing.filesystem()
    deleted = []
    for info in fs.get_file_info(
        pafs.FileSelector(landing.path, allow_not_found=True, recursive=True)
    ):
        parts = info.path[len(landing.path) :].strip("/").split("/")
        if (
            info.type == pafs.FileType.File
            and len(parts) == 2
            and parts[0] in ingested
            and (info.mtime_ns or cutoff_ns) < cutoff_ns
        ):
            fs.delete_file(info.path)
            deleted.append("/".join(parts))
    return sorted(deleted)
