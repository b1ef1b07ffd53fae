"""Where each warehouse table lives, and which tables the business users' app may read.

Tables that hold raw identifiers or raw export lines live in the **raw zone**, the ``raw/``
prefix of the warehouse: only the pipeline's user reads it (``deploy/minio``), never the app.
Everything else is pseudonymous. Every path to a table goes through :func:`table_location`.
"""

from __future__ import annotations

from amazing_assets.lib.storage import Location

RAW_ZONE = "raw"
RAW_ZONE_TABLES = frozenset({"raw_events", "event_quarantine", "rejected_events"})
"""Raw user ids and sessions (raw_events), raw export lines (event_quarantine, rejected_events)."""

APP_TABLES = (
    "cluster_profiles",
    "monthly_kpis",
    "kmeans_model",  # the model and kmeans_model/assignments
    "pca_embedding",  # pca_embedding/coordinates (the explorer)
    "segment_migration",
    "customer_value",  # pseudonymous key → predicted value and churn risk
    "value_quality",  # per month: the value model's back-test (no customer in it)
    "audience_exports",  # pseudonymous key → export id and group (target or control)
    "audience_export_log",
    "action_outcomes",
    "month_verdict",  # per month and aspect: is the month comparable to the last
)
"""What the Panel app reads: the dashboard's storage user is granted these and nothing else."""


SIDE_TABLE_FOLDERS: dict[str, str] = {"value_quality": "customer_value"}
"""Folders of side tables an asset writes beside its own table (``FrameWithTables``), and the
asset that writes them: each table there is that asset's declared output, not an asset."""


def table_path(name: str) -> tuple[str, ...]:
    """Path parts of table ``name`` (``kmeans_model/assignments`` nests) under the warehouse."""
    parts = tuple(name.split("/"))
    return (RAW_ZONE, *parts) if parts[0] in RAW_ZONE_TABLES else parts


def table_location(warehouse: Location, name: str) -> Location:
    return warehouse.child(*table_path(name))
