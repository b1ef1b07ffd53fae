"""Keyed pseudonymisation of customer identifiers (GDPR).

HMAC-SHA-256 under a secret key, not a plain hash: a 9-digit user id hashed without a key is
reversed by hashing all 10^9 candidates. Tokens are the first 32 hex digits (128 bits) of the
HMAC: collision-free in practice for billions of ids, and half the storage of the full digest.
Keep the key out of the warehouse: with it, tokens can be recomputed from known ids (which is
what the Panel app's lookup does), without it they cannot be linked back.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.lib.settings import KEY_ENV_VAR, pseudonymization_key_from_env

TOKEN_HEX_DIGITS = 32
MIN_KEY_BYTES = 16
logger = logging.getLogger(__name__)


class PseudonymizationKeyError(ValueError):
    """The key is missing or too weak; the message names the setting."""


class Pseudonymizer:
    """Computes HMAC-SHA-256 tokens; the key lives only in this object's closure state."""

    _BLOCK = 64  # SHA-256 block size

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymizationKeyError(
                f"the pseudonymisation key has {len(key)} bytes; use at least {MIN_KEY_BYTES} "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        if len(key) > self._BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self._BLOCK, b"\0")
        # Precomputed inner/outer states: HMAC without re-hashing the padded key for each value.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __repr__(self) -> str:
        return "Pseudonymizer(key=***)"

    def __reduce__(self):  # never pickle the key by accident (Spark closures use tokens_udf)
        raise TypeError("Pseudonymizer holds a secret and is not picklable")

    def token(self, value: str | int) -> str:
        inner = self._inner.copy()
        inner.update(str(value).encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:TOKEN_HEX_DIGITS]

    def tokens(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Vectorised: hashes each distinct value once (a user has many events per batch)."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        distinct = pc.unique(values)
        hashed = pa.array(
            [None if v is None else self.token(v) for v in distinct.to_pylist()], pa.string()
        )
        return pc.take(hashed, pc.index_in(values, value_set=distinct))


def token_appender(key: bytes, columns: dict[str, str]) -> Callable[[pa.Table], pa.Table]:
    """A function appending to an Arrow table, for each ``columns`` key, its token column (named
    by the value). It runs in the Spark tasks that classify the rows (``classify_events``).

    The key travels inside the function's closure to the executors, never as a literal in a
    query plan (a SQL expression would print it in ``explain()`` and the Spark UI).
    """

    def append(table: pa.Table) -> pa.Table:
        pseudonymizer = Pseudonymizer(key)
        for source, token in columns.items():
            table = table.append_column(
                pa.field(token, pa.string()), pseudonymizer.tokens(table.column(source))
            )
        return table

    return append


def read_key_file(path: Path) -> bytes:
    """The key in ``path``, refused when others than its owner may read it.

    A key readable by group or others (a copy with the default umask, a shared volume) lets any
    local user re-identify every customer: fail and say how to fix it, rather than use it.
    """
    if path.is_symlink():
        raise PseudonymizationKeyError(f"{path} is a symbolic link; keep the key file itself there")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PseudonymizationKeyError(
            f"{path} is readable by others than its owner (mode {mode:o}): run `chmod 600 {path}`"
        )
    return path.read_text().strip().encode()


def load_or_create_key_file(path: Path) -> bytes:
    """The embedded default's key file, created (mode 0600) with a random key on first use."""
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
    return read_key_file(path)


def existing_key(local_key_file: Path | None, environ: dict[str, str] | None = None) -> bytes:
    """The key for readers (the Panel app's lookup): never creates one.

    A reader that made up a new key would silently match nobody; it fails and says where the
    pipeline's key is expected instead.
    """
    key = pseudonymization_key_from_env(environ)
    if key:
        return key
    if local_key_file is not None and local_key_file.exists():
        return read_key_file(local_key_file)
    where = f" nor is there a key file at {local_key_file}" if local_key_file else ""
    raise PseudonymizationKeyError(
        f"{KEY_ENV_VAR} is not set{where}: customer lookup needs the pipeline's key "
        "(run the pipeline once, or set the variable the pipeline uses)"
    )
