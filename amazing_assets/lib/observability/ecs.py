"""Log records as Elastic Common Schema JSON, with the Dagster context Kibana and Grafana filter on.

Dagster attaches its context to each record it hands to the handlers of ``dagster.yaml``
(``python_logs.dagster_handler_config``) as ``record.dagster_meta``: run id, job, tags, step and,
for structured events, the ``DagsterEvent``. :class:`DagsterEcsFormatter` turns that into fields:

* ``dagster.run_id``, ``dagster.job``, ``dagster.step``, ``dagster.asset_key``,
  ``dagster.partition`` and ``dagster.event_type`` on every record of a run;
* ``event.duration`` (ns) on step successes and failures;
* ``amazing.metrics.*`` on materialisations: the metadata each asset reports (rows in and out,
  rows dropped by reason, customers, silhouette...), so dashboards chart them without parsing text;
* ``dagster.check.*`` on asset check evaluations.

Every field passes :func:`redact` first (message, error, ``extra`` fields, metadata; integers
shaped like an id too, unless the field is a measure such as a duration or a row count): the
pipeline never logs raw ids, and this makes sure a mistake elsewhere (an exception quoting a CSV
line, an id passed as ``extra``) does not put one in Elasticsearch either.
"""

from __future__ import annotations

import logging
import re
import socket
import uuid
from typing import Any

import ecs_logging

from amazing_assets.lib.identifiers import RAW_USER_ID_PATTERN, UUID_PATTERN
from amazing_assets.lib.settings import environment_name

SERVICE_NAME = "amazing-segments"
DAGSTER_META = "dagster_meta"
# Attributes Dagster sets on its records (objects, not JSON): read through DAGSTER_META.
DAGSTER_RECORD_ATTRS = (DAGSTER_META, "dagster_event", "dagster_event_batch_metadata")
# Dagster's run tags (amazing_assets.lib.partitions names them too); spelt out here because the
# formatter is loaded by logging configuration and stays free of the dagster import.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
REDACTED = "[redacted]"

# Raw user ids and session UUIDs, as the quarantine and rejection messages mask them too.
_RAW_USER_ID = re.compile(RAW_USER_ID_PATTERN)
_WHOLE_USER_ID = re.compile(rf"^{RAW_USER_ID_PATTERN}$")
_UUID = re.compile(rf"\b{UUID_PATTERN}\b")
# Numbers that measure something (not identify): kept as they are wherever they appear.
_MEASURE = re.compile(
    r"(rows|bytes|count|seconds|duration|_ms|_ns|size|share|users|customers|files|version|"
    r"removed|deleted|line|pid|thread|timestamp|time)",
    re.IGNORECASE,
)
# ECS fields that are Dagster's or the formatter's own ids: never masked.
_OWN_FIELDS = {("event", "id"), ("dagster", "run_id"), ("@timestamp",), ("ecs.version",)}


def redact(text: str, run_id: str | None = None) -> str:
    """``text`` with anything shaped like a raw user id or session id masked.

    Dagster's own ids (the run id, step ids) are UUIDs too; the run's id is kept so records stay
    searchable by it. UUIDs are handled first and the raw-id mask only applies between them: a
    UUID's last group can hold ten digits in a row, which the raw-id mask would otherwise cut
    out of the run id (and out of a session id, leaving the rest of it readable).
    """
    pieces, start = [], 0
    for found in _UUID.finditer(text):
        pieces.append(_RAW_USER_ID.sub(REDACTED, text[start : found.start()]))
        pieces.append(found.group(0) if found.group(0) == run_id else REDACTED)
        start = found.end()
    pieces.append(_RAW_USER_ID.sub(REDACTED, text[start:]))
    return "".join(pieces)


def partition_of(tags: dict[str, str]) -> str | None:
    """The run's month(s): one partition key, or ``start...end`` for a single-run backfill."""
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    if tags.get(RANGE_START_TAG):
        return f"{tags[RANGE_START_TAG]}...{tags.get(RANGE_END_TAG, tags[RANGE_START_TAG])}"
    return None


def metadata_values(metadata: dict[str, Any], run_id: str | None = None) -> dict[str, Any]:
    """Dagster metadata as plain JSON values, text redacted; Markdown and plots stay in the UI."""
    values: dict[str, Any] = {}
    for key, entry in metadata.items():
        value = getattr(entry, "value", entry)
        short_text = isinstance(value, str) and len(value) <= 200 and "\n" not in value
        if short_text or isinstance(value, bool | int | float | dict | list):
            values[key] = redacted(value, run_id, key)
    return values


def redacted(value: Any, run_id: str | None = None, key: str = "") -> Any:
    """``value`` with :func:`redact` applied to every string in it (keys included), and an
    integer shaped like a raw id masked unless ``key`` (its field's name) names a measure."""
    if isinstance(value, str):
        return redact(value, run_id)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        is_id = _WHOLE_USER_ID.match(str(value)) and not _MEASURE.search(key)
        return REDACTED if is_id else value
    if isinstance(value, dict):
        return {redacted(str(k), run_id): redacted(v, run_id, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v, run_id, key) for v in value]
    return value


def redacted_record(result: dict[str, Any], run_id: str | None, path: tuple = ()) -> dict:
    """Every field of an ECS record through :func:`redacted` (``extra`` fields included), but
    the record's own ids (:data:`_OWN_FIELDS`)."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        here = (*path, *str(key).split("."))
        if here in _OWN_FIELDS or tuple(str(key).split(".")) in _OWN_FIELDS:
            out[key] = value
        elif isinstance(value, dict):
            out[key] = redacted_record(value, run_id, here)
        else:
            out[redact(str(key), run_id)] = redacted(value, run_id, ".".join(here))
    return out


class DagsterEcsFormatter(ecs_logging.StdlibFormatter):
    """ECS JSON lines; Dagster's context as ``dagster.*`` fields when the record carries it."""

    def __init__(self, **kwargs: Any) -> None:
        extra = {
            "service.name": SERVICE_NAME,
            "service.environment": environment_name(),
            "host.hostname": socket.gethostname(),
            "event.dataset": "amazing.dagster",
        }
        super().__init__(extra={**extra, **kwargs.pop("extra", {})}, **kwargs)

    def format_to_ecs(self, record: logging.LogRecord) -> dict[str, Any]:
        # Dagster's context objects are not JSON: take them off the record while the base class
        # serialises its attributes, then put them back for the other handlers.
        taken = {k: record.__dict__.pop(k) for k in DAGSTER_RECORD_ATTRS if k in record.__dict__}
        try:
            result = super().format_to_ecs(record)
        finally:
            record.__dict__.update(taken)
        meta = taken.get(DAGSTER_META)
        run_id = meta.get("run_id") if meta else None
        # A stable id per record: Logstash indexes with it, so a batch re-sent after a timeout
        # overwrites its first copy instead of duplicating it (at-least-once → exactly-once).
        result.setdefault("event", {})["id"] = (meta or {}).get(
            "log_message_id"
        ) or uuid.uuid4().hex
        if meta:
            result["message"] = meta.get("orig_message") or result.get("message", "")
            result["dagster"] = dagster_fields(meta)
            event = meta.get("dagster_event")
            if event is not None:
                add_event_fields(result, event)
        result["message"] = str(result.get("message", ""))
        return redacted_record(jsonable(result), run_id)


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot carry turned into text: one odd ``extra`` must not
    cost the record (logging would drop it with a "Logging error")."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def dagster_fields(meta: dict[str, Any]) -> dict[str, Any]:
    tags = dict(meta.get("job_tags") or {})
    step = meta.get("step_key")
    fields = {
        "run_id": meta.get("run_id"),
        "job": meta.get("job_name"),
        "step": step,
        # An asset's op is named after its key ('/' becomes '__'); multi-assets after the first.
        "asset_key": step.replace("__", "/") if step else None,
        "partition": partition_of(tags),
    }
    return {k: v for k, v in fields.items() if v is not None}


def add_event_fields(result: dict[str, Any], event: Any) -> None:
    """Structured facts of a Dagster event: its type, duration, metrics or check outcome."""
    dagster = result["dagster"]
    dagster["event_type"] = event.event_type_value
    result.setdefault("event", {})["action"] = event.event_type_value.lower()
    data = event.event_specific_data
    duration_ms = getattr(data, "duration_ms", None)
    if duration_ms is not None:
        result["event"]["duration"] = int(duration_ms * 1_000_000)  # ECS: nanoseconds
    materialization = getattr(data, "materialization", None)
    if materialization is not None:
        dagster["asset_key"] = materialization.asset_key.to_user_string()
        if materialization.partition:
            dagster["partition"] = materialization.partition
        run_id = result["dagster"].get("run_id")
        result["amazing"] = {"metrics": metadata_values(dict(materialization.metadata), run_id)}
    if event.event_type_value == "ASSET_CHECK_EVALUATION":
        dagster["asset_key"] = data.asset_key.to_user_string()
        if getattr(data, "partition", None):
            dagster["partition"] = data.partition
        dagster["check"] = {
            "name": data.check_name,
            "passed": bool(data.passed),
            "severity": data.severity.value,
        }
    if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE"):
        result["event"]["outcome"] = "failure"
    elif event.event_type_value in ("STEP_SUCCESS", "RUN_SUCCESS"):
        result["event"]["outcome"] = "success"
