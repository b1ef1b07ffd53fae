"""Security-relevant settings come from the deployment, never from a run's launch config.

Dagster lets whoever can launch a run override any resource's configuration in the launchpad
(or in ``run_config`` through the GraphQL API). For these resources that would be a door: a
launcher could pseudonymise with a key they know (tokens become reversible), point the warehouse
or landing zone at their own bucket, give Spark a master or JVM options of their choosing, or
lower a quality gate so a bad month passes. Their values are bound when the code location loads,
from the environment (``amazing_assets.lib.settings``) or the code itself; a run whose config sets
them is refused before any work, with the setting to change instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

LOCKED_RESOURCES: dict[str, str] = {
    "warehouse": "AMAZING_WAREHOUSE / AMAZING_LANDING / AMAZING_S3_ENDPOINT / AWS_* variables",
    "spark": "AMAZING_SPARK_MASTER / AMAZING_SPARK_CONF variables",
    "pseudonymization_key": "AMAZING_PSEUDONYMIZATION_KEY variable (or the embedded key file)",
    "quality": "QualityResource defaults in code (reviewed like any rule change)",
    "feature_window": "AMAZING_FEATURE_WINDOW_MONTHS variable",
    "retention": "AMAZING_HISTORY_RETENTION_DAYS / AMAZING_LANDING_RETENTION_DAYS variables",
    "spark_delta_io_manager": "the warehouse and spark settings",
    "model_io_manager": "the warehouse settings",
}
"""Resource key → where its settings are changed instead (shown in the refusal)."""


def launch_overrides(run_config: Mapping | None) -> dict[str, str]:
    """The locked resources a run config tries to configure → where to change them instead."""
    resources = (run_config or {}).get("resources") or {}
    return {
        key: LOCKED_RESOURCES[key]
        for key, entry in sorted(resources.items())
        if key in LOCKED_RESOURCES and entry not in (None, {}) and (entry or {}).get("config")
    }


class LaunchOverrideError(dg.Failure):
    """A run's config sets a deployment-owned (security-relevant) setting."""


def refuse_launch_overrides(context: dg.InitResourceContext) -> None:
    """Fail the run when its launch config sets any locked resource (checked at resource setup).

    A run without a Dagster run (a resource built directly in a test) has nothing to check.
    """
    run = context.run
    overrides = launch_overrides(run.run_config if run is not None else None)
    if overrides:
        where = "; ".join(f"resources.{k}: set {v}" for k, v in overrides.items())
        raise LaunchOverrideError(
            "this run's launch config sets security-relevant settings, which only the deployment "
            f"may set. Remove them from the run config and change them where they live: {where}"
        )


class DeploymentResource(dg.ConfigurableResource):
    """A resource whose configuration belongs to the deployment: launch-time config is refused."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        refuse_launch_overrides(context)


class DeploymentIOManager(dg.ConfigurableIOManager):
    """An IO manager configured by the deployment only (see :class:`DeploymentResource`)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        refuse_launch_overrides(context)
