"""Dagster resource carrying the feature window, bound from the deployment's settings."""

from pydantic import Field

from amazing_assets.lib.launch_guard import DeploymentResource


class FeatureWindowResource(DeploymentResource):
    """Months of clean events each month's features cover (``AMAZING_FEATURE_WINDOW_MONTHS``).

    A resource, not a module constant read at import: the ``Settings`` given to
    ``build_definitions`` decide it, and a bad variable fails the run that uses it with its
    name, not the import of the code location. Locked at launch: months computed with different
    windows would not be comparable.
    """

    months: int = Field(default=3, ge=1, le=24, description="trailing months per as-of month")
