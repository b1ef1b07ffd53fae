"""Dagster resource providing the pseudonymisation key (never stored in the warehouse)."""

from pathlib import Path

from pydantic import Field

from amazing_assets.lib.launch_guard import DeploymentResource
from amazing_assets.lib.pseudonymize import (
    KEY_ENV_VAR,
    PseudonymizationKeyError,
    Pseudonymizer,
    load_or_create_key_file,
)
from amazing_assets.lib.settings import pseudonymization_key_from_env


class PseudonymizationKeyResource(DeploymentResource):
    """The HMAC key, from ``AMAZING_PSEUDONYMIZATION_KEY`` or (embedded default only) a local file.

    The embedded default creates a random key file outside the warehouse on first use and says
    so; deployments (``AMAZING_ENV=docker``) leave ``local_key_file`` unset so a missing variable
    fails the run before any work.
    """

    key: str | None = Field(
        default=None, description=f"the key itself; use dg.EnvVar('{KEY_ENV_VAR}')"
    )
    local_key_file: str | None = Field(
        default=None, description="embedded default only: key file created on first use"
    )

    def key_bytes(self) -> bytes:
        key = self.key.encode() if self.key else pseudonymization_key_from_env()
        if key:
            return key
        if not self.local_key_file:
            raise PseudonymizationKeyError(
                f"{KEY_ENV_VAR} is not set: set it to a secret of at least 32 random characters "
                "(keep it out of the warehouse and of version control)"
            )
        return load_or_create_key_file(Path(self.local_key_file))

    def pseudonymizer(self) -> Pseudonymizer:
        return Pseudonymizer(self.key_bytes())
