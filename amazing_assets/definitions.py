"""The Dagster code location: assets, checks, resources and jobs, wired from settings."""

from __future__ import annotations

import os

import dagster as dg

from amazing_assets.assets.cleaning import clean_events
from amazing_assets.assets.features import user_features_rfm
from amazing_assets.assets.ingestion import raw_events
from amazing_assets.assets.kpis import monthly_kpis
from amazing_assets.assets.modeling import kmeans_model, pca_embedding
from amazing_assets.assets.profiles import cluster_profiles, segment_migration
from amazing_assets.assets.value import customer_value
from amazing_assets.erasure import (
    RetentionSettings,
    erase_customers_job,
    erasure_request_sensor,
    housekeeping_job,
    housekeeping_schedule,
)
from amazing_assets.io.io_managers import SparkDeltaIOManager
from amazing_assets.io.model_io_manager import ModelIOManager
from amazing_assets.observability.redacting import redacting_console_logger
from amazing_assets.resources.features import FeatureWindowResource
from amazing_assets.resources.modeling import ModelingResource
from amazing_assets.resources.pseudonymization import KEY_ENV_VAR, PseudonymizationKeyResource
from amazing_assets.resources.quality import QualityResource
from amazing_assets.resources.spark import SparkResource
from amazing_assets.resources.warehouse import WarehouseResource
from amazing_assets.sensors import build_landing_sensor
from amazing_assets.settings import Settings, load_settings

ASSETS = [
    raw_events,
    clean_events,
    user_features_rfm,
    monthly_kpis,
    customer_value,
    pca_embedding,
    kmeans_model,
    cluster_profiles,
    segment_migration,
]

monthly_segments_job = dg.define_asset_job(
    "monthly_segments",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Ingest, clean, featurise and segment one month (or a range of months in one run).",
)


def optional_env(name: str) -> dg.EnvVar | None:
    """``dg.EnvVar`` for a variable that is set (the UI shows the name, never the value)."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_resources(settings: Settings) -> dict[str, object]:
    spark = SparkResource(master=settings.spark_master, conf=settings.spark_conf)
    warehouse = WarehouseResource(
        warehouse_uri=settings.warehouse_uri,
        landing_uri=settings.landing_uri,
        s3_endpoint=optional_env("AMAZING_S3_ENDPOINT"),
        s3_region=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=optional_env("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=optional_env("AWS_SECRET_ACCESS_KEY"),
    )
    key = PseudonymizationKeyResource(
        key=optional_env(KEY_ENV_VAR),
        local_key_file=str(settings.local_key_file) if settings.is_local else None,
    )
    return {
        "spark": spark,
        "warehouse": warehouse,
        "pseudonymization_key": key,
        "modeling": ModelingResource(),
        "quality": QualityResource(),
        "feature_window": FeatureWindowResource(months=settings.feature_window_months),
        "retention": RetentionSettings(
            history_days=settings.history_retention_days,
            landing_days=settings.landing_retention_days,
        ),
        "spark_delta_io_manager": SparkDeltaIOManager(warehouse=warehouse, spark=spark),
        "model_io_manager": ModelIOManager(warehouse=warehouse),
    }


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or load_settings()
    return dg.Definitions(
        assets=ASSETS,
        jobs=[monthly_segments_job, erase_customers_job, housekeeping_job],
        schedules=[housekeeping_schedule],
        sensors=[build_landing_sensor(monthly_segments_job), erasure_request_sensor],
        resources=build_resources(settings),
        # Dagster's default console logger prints records unredacted (compose ships that output):
        # every job of the location logs to the redacting one instead, under the same name.
        loggers={"console": redacting_console_logger},
        # Every run (the job, the sensor's, UI materialisations and backfills) executes its steps
        # in the run process: one SparkSession, one Spark application on a cluster, per run,
        # instead of a JVM and an application per step with the multiprocess default.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
