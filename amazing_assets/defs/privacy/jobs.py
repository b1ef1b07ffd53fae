"""Privacy jobs: ``erase_customers_job`` (GDPR art. 17) and ``housekeeping_job`` (retention).

A request is a JSON file ``{"user_ids": [541312140, ...]}`` dropped in the landing zone's
private folder ``_erasure/`` (where only the pipeline reads), and the job is launched with its
file name. The raw ids therefore never enter Dagster's run configuration, event log or the logs;
the request file is deleted once the erasure is done. The run's metadata and the audit table
``erasure_audit`` hold counts and one-way digests only. See :mod:`.erasure`. The customers stay
out of later runs (the asset ``erased_customers``, ``defs/ingestion/suppression.py``), and runs
of the Dagster instance whose records name them are deleted
(:mod:`amazing_assets.lib.observability.run_history`).
"""

import json
import re

import dagster as dg
from pydantic import Field

from amazing_assets.defs.ingestion.suppression import SUPPRESSION_TABLE, suppressed_digests
from amazing_assets.defs.privacy.erasure import (
    AUDIT_TABLE,
    ErasureRequestError,
    erase_customers,
    parse_user_ids,
)
from amazing_assets.defs.privacy.retention import expire_landing, vacuum_history
from amazing_assets.lib.asset_options import OWNERS
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.launch_guard import DeploymentResource
from amazing_assets.lib.observability.run_history import (
    forget_runs,
    mentions_pattern,
    runs_mentioning,
)
from amazing_assets.lib.warehouse import WarehouseResource

REQUESTS_FOLDER = "_erasure"

erasure_audit = dg.AssetSpec(
    AUDIT_TABLE,
    code_version="1",
    deps=[
        "raw_events",
        "rejected_events",
        "clean_events",
        "event_quarantine",
        "user_features_rfm",
        "customer_value",
        "pca_embedding",
        "kmeans_model",
        "audience_exports",
    ],
    group_name="privacy",
    owners=OWNERS,
    kinds={"delta"},
    description=(
        "One row per erasure request: when, how many customers, rows removed per table, as "
        "digests and counts only. Materialised by erase_customers_job, which removes the "
        "customers from the tables upstream of it (every month and version)."
    ),
)
"""Written by the erasure op, not by a step of its own: the erasure is an operation on every
table, launched on request, so it stays a job; the audit it appends is recorded as this asset's
materialisation."""


class ErasureRequest(dg.Config):
    request_file: str = Field(
        description=f"name of the request file in the landing zone's {REQUESTS_FOLDER}/ folder, "
        'holding {"user_ids": [...]}'
    )


REQUEST_FIELD = "ops.erase_requested_customers.config.request_file"
_REQUEST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.json")


def read_request(warehouse: WarehouseResource, name: str) -> tuple[list, str]:
    """The request's user ids and the request file's path (refused outside ``_erasure/``).

    No message names the file: the name is launch config, and whatever a launcher put there
    (an environment variable's value, should one ever get past the launch guard) would otherwise
    be written to the run's event log. Messages name the config field instead, and the
    underlying filesystem error (which holds the path) is not chained.
    """
    if not _REQUEST_NAME.fullmatch(name):
        raise ErasureRequestError(
            f"{REQUEST_FIELD} must be a file name only (letters, digits, '.', '_', '-', ending in "
            f".json) inside the landing zone's {REQUESTS_FOLDER}/ folder"
        )
    location = warehouse.landing().child(REQUESTS_FOLDER, name)
    try:
        with location.filesystem().open_input_stream(location.path) as stream:
            request = json.loads(stream.read())
    except FileNotFoundError:
        raise ErasureRequestError(
            f"the file named by {REQUEST_FIELD} is not in the landing zone's {REQUESTS_FOLDER}/ "
            "folder (already processed, or misspelt)"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ErasureRequestError(
            f'the file named by {REQUEST_FIELD} is not JSON: expected {{"user_ids": [...]}}'
        ) from None
    if not isinstance(request, dict) or not isinstance(request.get("user_ids"), list):
        raise ErasureRequestError(
            f'the file named by {REQUEST_FIELD}: expected {{"user_ids": [...]}}'
        )
    return request["user_ids"], location.path


@dg.op(description="Forget the request's customers in every table and version; audit it.")
def erase_requested_customers(
    context: dg.OpExecutionContext,
    config: ErasureRequest,
    warehouse: WarehouseResource,
    pseudonymization_key: PseudonymizationKeyResource,
) -> None:
    try:
        user_ids, request_path = read_request(warehouse, config.request_file)
        ids = parse_user_ids(user_ids)
        report = erase_customers(
            warehouse.warehouse(),
            warehouse.landing(),
            user_ids,
            pseudonymization_key.key_bytes(),
            request_id=context.run.run_id,
        )
    except ErasureRequestError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    # The customers joined the suppression list (erased_customers) before any row was deleted.
    context.log_event(
        dg.AssetMaterialization(
            asset_key=SUPPRESSION_TABLE,
            description=f"{report.customers} customer(s) of this request listed",
            metadata={
                "customers_listed": len(suppressed_digests(warehouse.warehouse())),
                "table_uri": dg.MetadataValue.path(warehouse.table(SUPPRESSION_TABLE).uri),
            },
        )
    )
    pseudonymizer = pseudonymization_key.pseudonymizer()
    pattern = mentions_pattern(ids, [pseudonymizer.token(i) for i in ids] + report.sessions)
    forgotten = runs_mentioning(context.instance, pattern, keep_run_id=context.run_id)
    forget_runs(context.instance, forgotten)
    warehouse.landing().filesystem().delete_file(request_path)
    context.log.info(
        f"erased {report.customers} customer(s): {sum(report.rows_removed.values()):,} rows in "
        f"{len(report.rows_removed)} tables; every older version removed"
    )
    context.log.info(f"{len(forgotten)} Dagster run(s) whose records named the customer(s) deleted")
    if report.landing_files:
        context.log.warning(
            "landing exports still hold the customer(s) (re-runs leave them out); delete or "
            "re-export them: "
            + ", ".join(f"{f} ({n} lines)" for f, n in report.landing_files.items())
        )
    metadata: dict[str, dg.RawMetadataValue] = {
        "customers": report.customers,
        "rows_removed": dg.MetadataValue.json(report.rows_removed),
        "landing_files_still_holding_customers": dg.MetadataValue.json(report.landing_files),
        "dagster_runs_deleted": len(forgotten),
        "landing_scan_seconds": report.landing_scan_seconds,
    }
    context.add_output_metadata(metadata)
    context.log_event(dg.AssetMaterialization(asset_key=AUDIT_TABLE, metadata=metadata))


@dg.job(description="Forget customers on request: every table, month and version (GDPR).")
def erase_customers_job() -> None:
    erase_requested_customers()


class RetentionSettings(DeploymentResource):
    """How long history is kept (``AMAZING_HISTORY_RETENTION_DAYS``, default 7) and ingested
    exports (``AMAZING_LANDING_RETENTION_DAYS``, unset: kept)."""

    history_days: float = 7.0
    landing_days: float | None = None


@dg.op(description="Remove table versions past the retention; expire ingested exports.")
def apply_retention(
    context: dg.OpExecutionContext, warehouse: WarehouseResource, retention: RetentionSettings
) -> None:
    removed = vacuum_history(warehouse.warehouse(), retention.history_days)
    context.log.info(
        f"history older than {retention.history_days} days removed: "
        f"{sum(removed.values()):,} files in {len(removed)} tables"
    )
    expired = []
    if retention.landing_days is not None:
        expired = expire_landing(warehouse.landing(), warehouse.warehouse(), retention.landing_days)
        context.log.info(
            f"{len(expired)} ingested export(s) older than {retention.landing_days} days deleted"
        )
    context.add_output_metadata(
        {"files_removed": dg.MetadataValue.json(removed), "exports_deleted": len(expired)}
    )


@dg.job(description="Apply the retention settings to table history and landing exports.")
def housekeeping_job() -> None:
    apply_retention()


housekeeping_schedule = dg.ScheduleDefinition(
    job=housekeeping_job,
    cron_schedule="0 3 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily retention at 03:00 (UTC).",
)


@dg.sensor(
    job=erase_customers_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Runs erase_customers_job for each request file dropped in {REQUESTS_FOLDER}/.",
)
def erasure_request_sensor(warehouse: WarehouseResource):
    """One run per request file (the run key makes it once per file version)."""
    import pyarrow.fs as pafs

    folder = warehouse.landing().child(REQUESTS_FOLDER)
    infos = folder.filesystem().get_file_info(pafs.FileSelector(folder.path, allow_not_found=True))
    requests = [
        dg.RunRequest(
            run_key=f"erasure-{info.base_name}-{info.mtime_ns}",
            run_config={
                "ops": {"erase_requested_customers": {"config": {"request_file": info.base_name}}}
            },
        )
        for info in infos
        if info.type == pafs.FileType.File and info.base_name.endswith(".json")
    ]
    return requests or dg.SkipReason(f"no erasure request in {folder.uri}")
