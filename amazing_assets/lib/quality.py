"""Dagster resource holding every data-quality threshold (configuration, not literals in code)."""

from pydantic import Field

from amazing_assets.lib.launch_guard import DeploymentResource


class QualityResource(DeploymentResource):
    """Thresholds of the asset checks and gates. Policy, changed in code: a run's launch config
    cannot lower a gate (see :mod:`amazing_assets.lib.launch_guard`)."""

    max_defective_share: float = Field(default=0.05, description="raw rows that cannot be parsed")
    max_outside_month_share: float = Field(
        default=0.01, description="raw rows dated outside the month"
    )
    file_outside_month_share: float = Field(
        default=0.5,
        description="a file with more rows dated outside its month than this is rejected",
    )
    min_kept_share: float = Field(
        default=0.5, description="clean rows / raw rows; below blocks the month"
    )
    min_explained_variance: float = Field(default=0.7, description="PCA floor")
    min_silhouette: float = Field(default=0.25, description="K-Means floor on the selection sample")
    min_segment_share: float = Field(default=0.02, description="smaller segments raise a warning")
    min_name_purity: float = Field(
        default=0.8,  # defs.segments.profiles.MIN_NAME_PURITY, which the app states (tested)
        description="share of a named segment's members who are what it says (warning)",
    )
    max_volume_change: float = Field(
        default=0.5, description="relative change of events vs last month"
    )
    max_purchaser_share_change: float = Field(
        default=0.05, description="absolute change vs last month"
    )
    max_segment_share_change: float = Field(
        default=0.10, description="absolute change per segment name"
    )
