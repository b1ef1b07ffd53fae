"""Every resource of the code location, built in one place from the settings.

Secrets are passed as ``dg.EnvVar`` (the UI shows the variable's name, never its value); the
settings say which variables are set, so an unset one stays unset instead of failing at load.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from amazing_assets.defs.features.resources import FeatureWindowResource
from amazing_assets.defs.monitoring.resources import AlertResource
from amazing_assets.defs.privacy.jobs import RetentionSettings
from amazing_assets.defs.segments.resources import ModelingResource
from amazing_assets.lib.io_managers import SparkDeltaIOManager
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.model_io_manager import ModelIOManager
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.settings import KEY_ENV_VAR, Settings, is_set, s3_settings_from_env
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource


def optional_env(name: str) -> dg.EnvVar | None:
    """``dg.EnvVar`` for a variable that is set, None otherwise."""
    return dg.EnvVar(name) if is_set(name) else None


def build_resources(
    settings: Settings, assets_using_spark: Sequence[str] = ()
) -> dict[str, object]:
    """``assets_using_spark``: the code location's Spark assets, so a run knows when the JVM
    may be stopped (:meth:`SparkResource.release_when_done`)."""
    spark = SparkResource(
        master=settings.spark_master,
        conf=settings.spark_conf,
        assets_using_spark=list(assets_using_spark),
    )
    warehouse = WarehouseResource(
        warehouse_uri=settings.warehouse_uri,
        landing_uri=settings.landing_uri,
        s3_endpoint=optional_env("AMAZING_S3_ENDPOINT"),
        s3_region=s3_settings_from_env().region,
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
        "alerts": AlertResource(
            webhook_url=optional_env("AMAZING_ALERT_WEBHOOK"),
            file_path=settings.alert_file,
            app_url=settings.app_url,
            language=settings.alert_language,
        ),
        "spark_delta_io_manager": SparkDeltaIOManager(warehouse=warehouse, spark=spark),
        "model_io_manager": ModelIOManager(warehouse=warehouse, pseudonymization_key=key),
    }
