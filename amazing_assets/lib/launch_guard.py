"""Security-relevant settings come from the deployment, never from a run's launch config.

Dagster lets whoever can launch a run override any resource's configuration in the launchpad
(or in ``run_config`` through the GraphQL API). For these resources that would be a door: a
launcher could pseudonymise with a key they know (tokens become reversible), point the warehouse
or landing zone at their own bucket, give Spark a master or JVM options of their choosing, or
lower a quality gate so a bad month passes. Their values are bound when the code location loads,
from the environment (``amazing_assets.lib.settings``) or the code itself; a run whose config sets
them is refused before any work, with the setting to change instead.

Environment sources (``{env: NAME}``) are refused in every section of every run's config (ops,
resources, loggers, execution): Dagster resolves them inside the run process, so a launcher who
puts ``{env: AMAZING_PSEUDONYMIZATION_KEY}`` in any string field hands the secret to code that
may echo it into the event log. Deployment values reach resources through ``dg.EnvVar`` in code,
never through run config, so no legitimate run needs one. The refusal names config paths only,
never values.
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
    "alerts": "AMAZING_ALERT_* / AMAZING_APP_URL variables",
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


def env_sources(run_config: Mapping | None) -> list[str]:
    """Paths (``ops.op.config.field``, ``list[2]``) of every ``{env: NAME}`` source in a config.

    Dagster reads a mapping whose only key is ``env`` as an environment source wherever a
    ``StringSource``/``IntSource``/``BoolSource`` is expected; any such mapping is reported,
    whatever the field's type, so a new field cannot open the door again.
    """
    found: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, Mapping):
            if len(value) == 1 and "env" in value:
                found.append(path)
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(run_config or {}, "")
    return found


class LaunchOverrideError(dg.Failure):
    """A run's config sets a deployment-owned (security-relevant) setting."""


def refuse_launch_overrides(context: dg.InitResourceContext) -> None:
    """Fail the run when its launch config sets any locked resource (checked at resource setup).

    A run without a Dagster run (a resource built directly in a test) has nothing to check.
    """
    run = context.run
    run_config = run.run_config if run is not None else None
    sources = env_sources(run_config)
    if sources:
        raise LaunchOverrideError(
            "this run's launch config reads environment variables, which could hand the code "
            "location's secrets to the run: replace each {env: ...} with a literal value, or "
            f"remove it, at {', '.join(sources)}"
        )
    overrides = launch_overrides(run_config)
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
