"""``landing_sensor``: new or changed monthly exports in the landing zone trigger that month's run.

Works the same on a local directory and on S3 (it lists through the storage layer). The cursor
remembers each file's size and modification time, so a file is processed once, and again only if
it is replaced. Files for a month that has not ended yet wait until its partition exists.

A month is not requested again while a run or a backfill already covers it (e.g. a backfill
launched from the UI), nor when ``raw_events`` was materialised after its newest file (the sensor
starting on a landing zone whose months are already in the warehouse).
"""

import hashlib
import json
import os

import dagster as dg
import pyarrow.fs as pafs

from amazing_assets.defs.ingestion.landing import CSV_SUFFIXES
from amazing_assets.defs.ingestion.month_folders import month_folder_problem
from amazing_assets.lib.observability.ecs import redact
from amazing_assets.lib.observability.redacting import redacted_log
from amazing_assets.lib.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    monthly_partitions,
    partition_key_of,
)
from amazing_assets.lib.storage import Location
from amazing_assets.lib.warehouse import WarehouseResource

RAW_EVENTS = dg.AssetKey("raw_events")


def landing_signatures(landing: Location) -> dict[str, dict[str, str]]:
    """month → {file name → "size:mtime"} for every export in the landing zone."""
    return landing_listing(landing)[0]


def landing_listing(landing: Location) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The exports per month (see :func:`landing_signatures`), and what was left out and why.

    Names starting with ``_`` or ``.`` are private and skipped. Left out, and reported so they
    never wait silently: folders that are not a ``YYYY-MM``
    month (``2019-13``, ``oct-2019``), exports outside a month folder or nested deeper, and
    symbolic links (refused: the pipeline reads only files placed in the landing zone).
    """
    fs = landing.filesystem()
    months: dict[str, dict[str, str]] = {}
    ignored: list[str] = []
    selector = pafs.FileSelector(landing.path, allow_not_found=True, recursive=True)
    for info in fs.get_file_info(selector):
        relative = info.path[len(landing.path) :].strip("/")
        parts = relative.split("/")
        if info.type != pafs.FileType.File or not parts[-1].lower().endswith(CSV_SUFFIXES):
            continue
        if any(part.startswith(("_", ".")) for part in parts):
            continue  # private folders and files by convention (e.g. the generator's _ground_truth)
        problem = month_folder_problem(parts[0]) if len(parts) == 2 else None
        if len(parts) != 2 or problem:
            ignored.append(
                f"{ascii(relative)[1:-1]} ({problem or 'not in a YYYY-MM month folder'})"
            )
            continue
        if not landing.is_s3 and os.path.islink(info.path):
            ignored.append(f"{relative} (a symbolic link; copy the export itself)")
            continue
        months.setdefault(parts[0], {})[parts[1]] = f"{info.size}:{info.mtime_ns}"
    return months, sorted(ignored)


def newest_mtime_ns(files: dict[str, str]) -> int:
    return max(int(signature.split(":")[1]) for signature in files.values())


def plan_runs(
    signatures: dict[str, dict[str, str]],
    cursor: dict[str, dict[str, str]],
    known_partitions: set[str],
    in_flight: frozenset[str] = frozenset(),
    ingested_ns: dict[str, int] | None = None,
) -> tuple[list[dg.RunRequest], dict[str, dict[str, str]], list[str]]:
    """Run requests for months whose files changed; the new cursor; months left waiting.

    ``in_flight``: partition keys a queued or running run or backfill already covers (left out
    of the cursor, so reconsidered once it is over). ``ingested_ns``: partition key → when
    ``raw_events`` was last materialised for it; a month ingested after its newest file is
    recorded as processed without a run.
    """
    requests, waiting, new_cursor = [], [], dict(cursor)
    for month, files in sorted(signatures.items()):
        if files == cursor.get(month):
            continue
        key = partition_key_of(month)
        if key not in known_partitions:
            waiting.append(month)  # not in the cursor: reconsidered on a later tick
            continue
        if key in in_flight:
            continue
        if (ingested_ns or {}).get(key, 0) >= newest_mtime_ns(files):
            new_cursor[month] = files
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
        signatures, ignored = landing_listing(warehouse.landing())
        if ignored:
            # File names are the exporter's: they may hold anything, an id included.
            redacted_log(context).warning(f"landing exports ignored: {'; '.join(ignored)}")
        changed = [partition_key_of(m) for m, files in signatures.items() if files != cursor.get(m)]
        in_flight = months_in_flight(context.instance) if changed else frozenset()
        requests, new_cursor, waiting = plan_runs(
            signatures,
            cursor,
            known,
            in_flight=in_flight,
            ingested_ns={k: last_ingestion_ns(context.instance, k) for k in changed if k in known},
        )
        if new_cursor != cursor:
            context.update_cursor(json.dumps(new_cursor, sort_keys=True))
        notes = [f"ignored: {'; '.join(ignored)}"] if ignored else []
        if waiting:
            notes.append(f"waiting until these months end: {waiting}")
        if busy := sorted(k[:7] for k in changed if k in in_flight):
            notes.append(f"already being materialised by a run or backfill: {busy}")
        if not requests:
            return dg.SkipReason(
                redact("no exports to run" + (f" ({'; '.join(notes)})" if notes else ""))
            )
        return requests

    return landing_sensor


ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def months_in_flight(instance: dg.DagsterInstance) -> frozenset[str]:
    """Partition keys covered by a queued or running run, of any job, or a requested backfill.

    Any job: a materialisation started from the UI runs as ``__ASSET_JOB``, not as the
    sensor's job, and must not get a duplicate run of the same month.
    """
    keys: set[str] = set()
    all_keys = monthly_partitions.get_partition_keys()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)):
        tags = run.tags
        if tags.get(PARTITION_TAG):
            keys.add(tags[PARTITION_TAG])
        start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
        if start and end:
            keys.update(k for k in all_keys if start <= k <= end)
    # Requested backfills (status by name: the enum lives in a private module).
    for backfill in instance.get_backfills():
        if backfill.status.value != "REQUESTED":
            continue
        if backfill.asset_backfill_data is not None:
            subset = backfill.asset_backfill_data.get_target_partitions_subset(RAW_EVENTS)
            keys.update(subset.get_partition_keys())
        elif backfill.partition_names:
            keys.update(backfill.partition_names)
    return frozenset(keys)


def last_ingestion_ns(instance: dg.DagsterInstance, partition_key: str) -> int:
    """When the month was last ingested or attempted (0: never), in nanoseconds.

    The later of ``raw_events``' last materialisation and the creation of the month's latest run
    of any job (the sensor's, a UI materialisation, a backfill's). A month rejected after its
    newest file landed is not retried until the file changes: the same file would fail again.
    """
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_EVENTS, asset_partitions=[partition_key]), limit=1
    ).records
    materialized = records[0].timestamp if records else 0.0
    # A backfill's one-month run carries the month as a range of one, not as the partition tag.
    attempted = 0.0
    for tags in (
        {PARTITION_TAG: partition_key},
        {RANGE_START_TAG: partition_key, RANGE_END_TAG: partition_key},
    ):
        runs = instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1)
        if runs:
            attempted = max(attempted, runs[0].create_timestamp.timestamp())
    return int(max(materialized, attempted) * 1e9)
