"""Model artifacts in the warehouse: skops files with an integrity manifest.

skops, not pickle: loading a pickle runs whatever code the file names, and a bucket that others
can write must not become a way to run code. Loading checks, in order:

1. the manifest's signature (``model_signing``): made with a key derived from the
   pseudonymisation key, over the file's digest and the asset and month the model is for, so
   neither a forged manifest nor a model copied from another month loads;
2. the file's SHA-256 against that manifest (catches any modification of the file);
3. skops' trusted-types check (refuses any type outside scikit-learn/numpy's safe set, even if an
   attacker rewrote the manifest too).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import skops
import skops.io as sio

from amazing_assets.lib.model_signing import (
    ManifestSignatureError,
    sign_manifest,
    verify_manifest,
)
from amazing_assets.lib.storage import Location, ensure_directory, upload_bytes

MODEL_FILE = "model.skops"
MANIFEST_FILE = "manifest.json"


class ModelIntegrityError(RuntimeError):
    """A stored model is missing, modified or contains untrusted types; it is not loaded."""


def save_model(
    location: Location,
    model: object,
    *,
    asset: str,
    month: str,
    signing_key: bytes,
    metadata: dict | None = None,
) -> dict:
    """Write ``model.skops`` and its signed ``manifest.json`` under ``location``; return it."""
    data = sio.dumps(model)
    manifest = sign_manifest(
        {
            **(metadata or {}),
            "file": MODEL_FILE,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "created_at": datetime.now(UTC).isoformat(),
            "format": f"skops {skops.__version__}",
            "asset": asset,
            "month": month,
        },
        signing_key,
    )
    ensure_directory(location)
    upload_bytes(location, f"{location.path}/{MODEL_FILE}", data)
    upload_bytes(
        location, f"{location.path}/{MANIFEST_FILE}", json.dumps(manifest, indent=2).encode()
    )
    return manifest


def load_model(
    location: Location, *, asset: str, month: str, signing_key: bytes
) -> tuple[object, dict]:
    """Load the model :func:`save_model` wrote for ``asset`` and ``month``, refusing anything
    tampered with, unsigned, or written for another asset or month."""
    fs = location.filesystem()
    try:
        with fs.open_input_stream(f"{location.path}/{MANIFEST_FILE}") as handle:
            manifest = json.loads(handle.read())
        with fs.open_input_stream(f"{location.path}/{MODEL_FILE}") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as error:
        raise ModelIntegrityError(
            f"no model at {location.uri} ({error}); materialise the asset for that month first"
        ) from error
    try:
        verify_manifest(manifest, signing_key, asset=asset, month=month)
    except ManifestSignatureError as error:
        raise ModelIntegrityError(f"model at {location.uri}: {error}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.get("sha256"):
        raise ModelIntegrityError(
            f"model file {location.uri}/{MODEL_FILE} does not match its manifest "
            f"(sha256 {digest[:12]}… ≠ {str(manifest.get('sha256'))[:12]}…): it was modified "
            "after the pipeline wrote it. Refusing to load it; re-materialise the asset."
        )
    untrusted = sio.get_untrusted_types(data=data)
    if untrusted:
        raise ModelIntegrityError(
            f"model file {location.uri}/{MODEL_FILE} contains types outside the trusted set "
            f"{untrusted}; refusing to load it (it could run code). Re-materialise the asset."
        )
    return sio.loads(data), manifest


def model_location(asset_root: Location, month: str) -> Location:
    """Where an asset's model for ``month`` lives: ``<asset>/model/month=YYYY-MM/``."""
    return asset_root.child("model", f"month={month}")
