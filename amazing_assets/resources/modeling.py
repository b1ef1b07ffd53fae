"""Dagster resource carrying the modelling knobs (shown and editable in the Dagster UI)."""

import dagster as dg
from pydantic import Field

from amazing_assets.segmentation.modeling import ModelingConfig


class ModelingResource(dg.ConfigurableResource):
    """PCA variance share, k range, sample sizes and seed for segmentation."""

    variance_share: float = Field(default=0.9, description="share of variance PCA keeps")
    k_min: int = Field(default=3)
    k_max: int = Field(default=10)
    fit_sample: int = Field(default=200_000, description="customers used to fit the models")
    selection_sample: int = Field(default=20_000, description="customers scored per k")
    bootstrap_rounds: int = Field(default=5)
    seed: int = Field(default=0)

    def config(self) -> ModelingConfig:
        return ModelingConfig(
            variance_share=self.variance_share,
            k_min=self.k_min,
            k_max=self.k_max,
            fit_sample=self.fit_sample,
            selection_sample=self.selection_sample,
            bootstrap_rounds=self.bootstrap_rounds,
            bootstrap_sample=self.selection_sample,
            seed=self.seed,
        )
