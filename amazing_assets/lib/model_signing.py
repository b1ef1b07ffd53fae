"""Signed model manifests: a model loads only as the asset and month the pipeline wrote it for.

The manifest's SHA-256 alone proves nothing to a reader: whoever can write the model file can
write its digest too, and a model and manifest copied from another month's folder matched
perfectly (the month was not part of anything checked). The manifest now carries an HMAC-SHA256
over its canonical content (digest, size, asset, month, format) under a *signing key* derived
from the pseudonymisation key with a fixed label (HMAC(key, label), the expand step of HKDF with
one output block). The raw key never signs anything, and the signing key does not reveal it.
The pipeline, the app and the predictor all derive the same signing key; a writer of the bucket
who does not hold the key cannot produce a manifest that verifies.

HMAC is symmetric: whoever can verify can also sign. The holders are the pipeline and the app,
which already hold the pseudonymisation key; the door closed is the one for whoever can only
write the warehouse.
"""

from __future__ import annotations

import hashlib
import hmac
import json

SIGNING_LABEL = b"amazing-segments/model-manifest-signing/v1"
SIGNATURE_FIELD = "signature"
SIGNED_FIELDS = ("file", "sha256", "bytes", "asset", "month", "format")
"""What the signature binds: which file, its content, and the asset and month it is for."""


class ManifestSignatureError(RuntimeError):
    """A manifest is unsigned, signed under another key, or for another asset or month."""


def model_signing_key(pseudonymization_key: bytes) -> bytes:
    """The key that signs manifests, derived (one way) from the pseudonymisation key."""
    if not pseudonymization_key:
        raise ValueError("an empty pseudonymisation key cannot derive a signing key")
    return hmac.new(pseudonymization_key, SIGNING_LABEL, hashlib.sha256).digest()


def signed_content(manifest: dict) -> bytes:
    """The canonical bytes signed: the bound fields only, sorted, compact JSON."""
    return json.dumps(
        {name: manifest.get(name) for name in SIGNED_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def sign_manifest(manifest: dict, signing_key: bytes) -> dict:
    """``manifest`` with its signature (requires ``asset`` and ``month``)."""
    if not manifest.get("asset") or not manifest.get("month"):
        raise ValueError("a model manifest names its asset and month before it is signed")
    signature = hmac.new(signing_key, signed_content(manifest), hashlib.sha256).hexdigest()
    return {**manifest, SIGNATURE_FIELD: signature}


def verify_manifest(manifest: dict, signing_key: bytes, *, asset: str, month: str) -> None:
    """Refuse a manifest that is unsigned, forged or re-signed elsewhere, or for another place.

    The signature is checked first (constant-time), then the asset and month it binds, so a
    copied-over model from another month fails with a message that says so.
    """
    signature = manifest.get(SIGNATURE_FIELD)
    if not isinstance(signature, str):
        raise ManifestSignatureError(
            "the model's manifest is not signed (written before signing, or by something other "
            "than the pipeline); re-materialise the asset for that month"
        )
    expected = hmac.new(signing_key, signed_content(manifest), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        raise ManifestSignatureError(
            "the model's manifest signature does not verify: it was modified, or written under "
            "another pseudonymisation key; re-materialise the asset for that month"
        )
    if manifest.get("asset") != asset or manifest.get("month") != month:
        raise ManifestSignatureError(
            f"the model stored for {asset} {month} was written for {manifest.get('asset')} "
            f"{manifest.get('month')} (copied from another place); refusing it. Re-materialise "
            f"{asset} for {month}."
        )
