"""``landing_sensor``: new or changed monthly exports in the landing zone trigger that month's run.

Works the same on a local directory and on S3 (it lists through the storage layer). The cursor
remembers each file's size and modification time, so a file is processed once, and again only if
it is replaced. Files for a month that has not ended yet wait until its partition exists.
"""

import hashlib
import json
import re

import dagster as dg
import pyarrow.fs as pafs

from amazing_assets.io.landing import CSV_SUFFIXES
from amazing_assets.io.storage import Location
from amazing_assets.partitions import monthly_partitions, partition_key_of
from amazing_assets.resources.warehouse import WarehouseResource

MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


def landing_signatures(landing: Location) -> dict[str, dict[str, str]]:
    """month → {file name → "size:mtime"} for every export in the landing zone."""
    fs = landing.filesystem()
    months: dict[str, dict[str, str]] = {}
    selector = pafs.FileSelector(landing.path, allow_not_found=True, recursive=True)
    for info in fs.get_file_info(selector):
        relative = info.path[len(landing.path) :].strip("/")
        parts = relative.split("/")
        if (
            info.type != pafs.FileType.File
            or len(parts) != 2
            or not MONTH_FOLDER.match(parts[0])
            or not parts[1].lower().endswith(CSV_SUFFIXES)
        ):
            continue
        months.setdefault(parts[0], {})[parts[1]] = f"{info.size}:{info.mtime_ns}"
    return months


def plan_runs(
    signatures: dict[str, dict[str, str]],
    cursor: dict[str, dict[str, str]],
    known_partitions: set[str],
) -> tuple[list[dg.RunRequest], dict[str, dict[str, str]], list[str]]:
    """Run requests for months whose files changed; the new cursor; months left waiting."""
    requests, waiting, new_cursor = [], [], dict(cursor)
    for month, files in sorted(signatures.items()):
        if files == cursor.get(month):
            continue
        key = partition_key_of(month)
        if key not in known_partitions:
            waiting.append(month)  # not in the cursor: reconsidered on a later tick
            continue
        digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                run_key=f"landing-{month}-{digest}",
                partition_key=key,
                tags={"amazing/trigger": "landing_sensor"},
            )
        )
        new_cursor[month] = files
    return requests, new_cursor, waiting


def build_landing_sensor(job) -> dg.SensorDefinition:
    """The sensor for ``job`` (the monthly asset job)."""

    @dg.sensor(
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs a month when its exports appear or change in the landing zone.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        cursor = json.loads(context.cursor) if context.cursor else {}
        known = set(monthly_partitions.get_partition_keys())
        requests, new_cursor, waiting = plan_runs(
            landing_signatures(warehouse.landing()), cursor, known
        )
        if waiting:
            context.log.info(f"exports for {waiting} wait until those months end")
        if not requests:
            return dg.SkipReason(
                f"no new or changed exports{f' (waiting: {waiting})' if waiting else ''}"
            )
        context.update_cursor(json.dumps(new_cursor, sort_keys=True))
        return requests

    return landing_sensor
