"""The code location ``amazing_assets``: every stage's definitions, the monthly job that runs
them, and the resources, wired from the settings.

Each stage folder (``amazing_assets/defs/<stage>/definitions.py``) returns its own assets, jobs,
sensors and schedules; this module merges them. ``build_definitions(settings)`` builds the same
location from other settings (tests, the demo).
"""

from __future__ import annotations

import dagster as dg

from amazing_assets.defs.cleaning import definitions as cleaning
from amazing_assets.defs.features import definitions as features
from amazing_assets.defs.ingestion import definitions as ingestion
from amazing_assets.defs.ingestion.sensors import build_landing_sensor
from amazing_assets.defs.measurement import definitions as measurement
from amazing_assets.defs.monitoring import definitions as monitoring
from amazing_assets.defs.privacy import definitions as privacy
from amazing_assets.defs.segments import definitions as segments
from amazing_assets.defs.value import definitions as value
from amazing_assets.lib.observability.redacting import (
    install_redacting_logger_class,
    redacting_console_logger,
)
from amazing_assets.lib.settings import Settings, load_settings
from amazing_assets.resources import build_resources

CODE_LOCATION = "amazing_assets"
"""The location's name in Dagster. Dagster reads it (and this module's name) from config files
that cannot import Python: both workspaces, ``[tool.dagster]`` in pyproject.toml and the
commands that serve the location; ``test_deploy_config`` holds every one equal to this."""
STAGES = (ingestion, cleaning, features, value, segments, measurement, monitoring, privacy)
"""In data order; each stage's ``definitions()`` returns its own."""

MONTHLY_ASSETS = [
    "raw_events",
    "clean_events",
    "event_quarantine",
    "user_features_rfm",
    "monthly_kpis",
    "purchase_days",
    "customer_value",
    "pca_embedding",
    "kmeans_model",
    "cluster_profiles",
    "segment_migration",
    "audience_exports",
    "audience_export_log",
    "action_outcomes",
    "month_verdict",
    "segment_alerts",
]
"""What one month's run materialises. rejected_events, erasure_audit and erased_customers are
assets too, written by the steps that refuse a month and by the erasure job. action_outcomes
of a month reads "waiting" until the next month's events exist; its automation sensor measures
it then."""

monthly_segments_job = dg.define_asset_job(
    "monthly_segments",
    selection=dg.AssetSelection.assets(*MONTHLY_ASSETS),
    description="Ingest, clean, featurise and segment one month (or a range of months in one run).",
)


def assets_using_spark(stages: list[dg.Definitions]) -> list[str]:
    """Every asset whose kinds include ``spark``."""
    return sorted(
        spec.key.to_user_string()
        for stage in stages
        for assets_def in stage.assets or []
        if isinstance(assets_def, dg.AssetsDefinition)
        for spec in assets_def.specs
        if "spark" in spec.kinds
    )


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or load_settings()
    # Runs whose config has no `loggers` section print through Dagster's default console, which
    # ignores the `loggers` below: make that one redact too (see observability.redacting).
    install_redacting_logger_class()
    stages = [stage.definitions() for stage in STAGES]
    return dg.Definitions.merge(
        *stages,
        dg.Definitions(
            jobs=[monthly_segments_job],
            sensors=[build_landing_sensor(monthly_segments_job)],
            resources=build_resources(settings, assets_using_spark(stages)),
            # Dagster's default console logger prints records unredacted (compose ships that
            # output): every job of the location logs to the redacting one, under the same name.
            loggers={"console": redacting_console_logger},
            # Every run (the job, the sensor's, UI materialisations and backfills) executes its
            # steps in the run process: one SparkSession, one Spark application on a cluster,
            # per run, instead of a JVM and an application per step with the multiprocess
            # default.
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions()
