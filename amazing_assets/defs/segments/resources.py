"""Dagster resource exposing the modelling knobs in the UI; :class:`ModelingConfig` owns them."""

from dataclasses import fields

import dagster as dg
from pydantic import Field

from amazing_assets.defs.segments.modeling import ModelingConfig

_UNSET = "unset: ModelingConfig's default"


class ModelingResource(dg.ConfigurableResource):
    """Per-run overrides of :class:`ModelingConfig` (PCA variance share, k range per tier,
    samples, seed). An unset field takes the config's default, so the defaults live in one
    place: they are what the robustness benchmark measured. Editable at launch: a modelling
    choice, not a door (the launch guard locks storage, keys, Spark and quality gates)."""

    variance_share: float | None = Field(default=None, description=f"PCA variance kept ({_UNSET})")
    k_min: int | None = Field(default=None, description=f"fewest segments per tier ({_UNSET})")
    k_max: int | None = Field(default=None, description=f"most segments per tier ({_UNSET})")
    fit_sample: int | None = Field(default=None, description=f"customers fitted ({_UNSET})")
    selection_sample: int | None = Field(
        default=None, description=f"customers of a tier fitted per candidate k ({_UNSET})"
    )
    bootstrap_rounds: int | None = Field(default=None, description=f"stability refits ({_UNSET})")
    seed: int | None = Field(default=None, description=f"random seed ({_UNSET})")
    split_for_actions: bool | None = Field(
        default=None,
        description=f"split named segments whose members need other actions ({_UNSET})",
    )

    def config(self) -> ModelingConfig:
        known = {f.name for f in fields(ModelingConfig)}
        overrides = {
            name: value
            for name, value in self.model_dump().items()
            if name in known and value is not None
        }
        return ModelingConfig(**overrides)
