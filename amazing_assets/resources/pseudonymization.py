"""Dagster resource providing the pseudonymisation key (never stored in the warehouse)."""

import logging
import os
import secrets
from pathlib import Path

import dagster as dg
from pydantic import Field

from amazing_assets.segmentation.pseudonymize import PseudonymizationKeyError, Pseudonymizer

KEY_ENV_VAR = "AMAZING_PSEUDONYMIZATION_KEY"
logger = logging.getLogger(__name__)


class PseudonymizationKeyResource(dg.ConfigurableResource):
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
        key = self.key or os.environ.get(KEY_ENV_VAR)
        if key:
            return key.encode()
        if not self.local_key_file:
            raise PseudonymizationKeyError(
                f"{KEY_ENV_VAR} is not set: set it to a secret of at least 32 random characters "
                "(keep it out of the warehouse and of version control)"
            )
        return load_or_create_key_file(Path(self.local_key_file))

    def pseudonymizer(self) -> Pseudonymizer:
        return Pseudonymizer(self.key_bytes())


def load_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.warning(
            "Created a local pseudonymisation key at %s (embedded default). Back it up: without it "
            "customer lookups cannot be matched to stored tokens. Set %s in deployments.",
            path,
            KEY_ENV_VAR,
        )
    return path.read_text().strip().encode()
