"""One way to address storage, whether the warehouse is a local directory or an S3 bucket.

Everything that touches files (Spark data sources on executors, deltalake on the driver, the
landing-zone scanner, the Panel app) goes through :class:`Location`, so local and S3 share one
code path. A location is plain data that round-trips through string options, because Spark hands
data-source options to Python workers as a case-insensitive dict of strings.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs

from amazing_assets.lib.retries import is_transient

PARTITION_COLUMN = "month"
"""Every warehouse table is partitioned by this column (``YYYY-MM``)."""

LOCATION_OPTION = "location"
"""Name of the Spark data-source option that carries a serialised :class:`Location`."""


class StorageConfigError(ValueError):
    """A storage setting is missing or wrong; the message names the setting to fix."""


@dataclass(frozen=True)
class S3Settings:
    """How to reach an S3-compatible store (MinIO, AWS, Ceph...).

    Credentials are carried here only in memory; they are read from environment variables by
    :func:`s3_settings_from_env` and never written to the warehouse or logged (``__repr__`` hides
    the secret).
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:  # never print secrets
        return (
            f"S3Settings(endpoint_url={self.endpoint_url!r}, region={self.region!r}, "
            f"access_key_id={'***' if self.access_key_id else None})"
        )

    @property
    def allow_http(self) -> bool:
        return bool(self.endpoint_url and self.endpoint_url.startswith("http://"))


def s3_settings_from_env() -> S3Settings:
    """S3 settings from the process' environment (read by :mod:`amazing_assets.lib.settings`)."""
    from amazing_assets.lib.settings import s3_settings_from_env as from_environment

    return from_environment()


@dataclass(frozen=True)
class Location:
    """A directory-like place: ``file:///abs/dir`` or ``s3://bucket/prefix``."""

    uri: str
    s3: S3Settings | None = None

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, uri: str, s3: S3Settings | None = None, *, setting: str = "uri") -> Location:
        """Normalise a user-supplied URI or path. ``setting`` names the knob in error messages."""
        if not uri or not uri.strip():
            raise StorageConfigError(
                f"{setting} is empty: give a local directory or s3://bucket/prefix"
            )
        uri = uri.strip()
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            path = parsed.path if parsed.scheme == "file" else uri
            return cls(uri=Path(path).expanduser().resolve().as_uri())
        if parsed.scheme in ("s3", "s3a"):
            if not parsed.netloc:
                raise StorageConfigError(f"{setting}={uri!r} has no bucket: use s3://bucket/prefix")
            prefix = parsed.path.strip("/")
            return cls(
                uri=f"s3://{parsed.netloc}/{prefix}".rstrip("/"),
                s3=s3 if s3 is not None else s3_settings_from_env(),
            )
        raise StorageConfigError(
            f"{setting}={uri!r} has unsupported scheme {parsed.scheme!r}: "
            "use a local directory or s3://bucket/prefix"
        )

    def child(self, *parts: str) -> Location:
        clean = "/".join(p.strip("/") for p in parts if p.strip("/"))
        return replace(self, uri=f"{self.uri.rstrip('/')}/{clean}" if clean else self.uri)

    # ---- views for the libraries ---------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @property
    def bucket(self) -> str | None:
        return urlparse(self.uri).netloc if self.is_s3 else None

    @property
    def path(self) -> str:
        """Path inside :attr:`filesystem`: ``/abs/dir`` locally, ``bucket/prefix`` on S3."""
        parsed = urlparse(self.uri)
        if self.is_s3:
            return f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
        return parsed.path

    @property
    def table_uri(self) -> str:
        """The form deltalake expects: a plain local path or an ``s3://`` URI."""
        return self.uri if self.is_s3 else self.path

    def filesystem(self) -> pafs.FileSystem:
        """A pyarrow filesystem for this location (built on demand; not picklable state)."""
        if not self.is_s3:
            return pafs.LocalFileSystem()
        s3 = self.s3 or S3Settings()
        kwargs: dict[str, object] = {
            "region": s3.region,
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=5),
        }
        if s3.endpoint_url:
            endpoint = urlparse(s3.endpoint_url)
            kwargs["endpoint_override"] = endpoint.netloc or s3.endpoint_url
            kwargs["scheme"] = endpoint.scheme or "https"
        if s3.access_key_id:
            kwargs["access_key"] = s3.access_key_id
            kwargs["secret_key"] = s3.secret_access_key
            if s3.session_token:
                kwargs["session_token"] = s3.session_token
        return pafs.S3FileSystem(**kwargs)

    def storage_options(self) -> dict[str, str]:
        """deltalake (object_store) storage options for this location."""
        if not self.is_s3:
            return {}
        s3 = self.s3 or S3Settings()
        options = {"AWS_REGION": s3.region}
        if s3.endpoint_url:
            options["AWS_ENDPOINT_URL"] = s3.endpoint_url
        if s3.allow_http:
            options["AWS_ALLOW_HTTP"] = "true"
        if s3.access_key_id:
            options["AWS_ACCESS_KEY_ID"] = s3.access_key_id
            options["AWS_SECRET_ACCESS_KEY"] = s3.secret_access_key or ""
        if s3.session_token:
            options["AWS_SESSION_TOKEN"] = s3.session_token
        # Commits are put-if-absent (If-None-Match), which AWS S3 and MinIO support: of two
        # writers racing for one table version, one wins and the other retries or fails on a
        # conflict. (The unsafe-rename mode let both write the same version.)
        options["AWS_CONDITIONAL_PUT"] = "etag"
        return options

    # ---- transport through Spark options -----------------------------------------------
    def to_option(self) -> str:
        """Serialise for a Spark option, *without* credentials.

        Options can surface in query plans and the Spark UI, so secrets never travel in them:
        executors read credentials from their own environment (``spark.executorEnv.*`` on a
        cluster, inherited in local mode), see :func:`s3_settings_from_env`.
        """
        s3 = None
        if self.s3:
            s3 = {"endpoint_url": self.s3.endpoint_url, "region": self.s3.region}
        return json.dumps({"uri": self.uri, "s3": s3})

    @classmethod
    def from_option(cls, text: str) -> Location:
        data = json.loads(text)
        if not data.get("s3"):
            return cls(uri=data["uri"])
        env = s3_settings_from_env()
        return cls(uri=data["uri"], s3=replace(env, **data["s3"]))

    def __str__(self) -> str:
        return self.uri


def ensure_directory(location: Location) -> None:
    """Create a local directory (S3 has no directories; nothing to do there)."""
    if not location.is_s3:
        Path(location.path).mkdir(parents=True, exist_ok=True)


def upload_bytes(
    location: Location, path: str, data: bytes, attempts: int = 5, first_delay: float = 0.5
) -> None:
    """Write ``data`` to ``path`` (inside ``location``'s filesystem) as one object, retrying
    transient failures with exponential backoff.

    pyarrow's S3 client retries single requests, but a multipart upload whose part is throttled
    (503 SlowDown) fails as a whole; re-sending the whole object is safe because objects are only
    visible once complete. What is transient is the pipeline's one rule
    (:func:`amazing_assets.lib.retries.is_transient`): a denial or a missing bucket fails at once.
    """
    fs = location.filesystem()
    for attempt in range(attempts):
        try:
            with fs.open_output_stream(path) as out:
                out.write(data)
            return
        except OSError as error:
            if attempt == attempts - 1 or not is_transient(error):
                raise
            time.sleep(first_delay * 2**attempt)


def stat_size(
    location: Location, path: str, attempts: int = 4, first_delay: float = 0.5
) -> int | None:
    """Size of the file at ``path``, or None when it does not exist.

    A throttled or failed HEAD can look like a missing object; ask again (with backoff) before
    concluding that a file is gone.
    """
    fs = location.filesystem()
    for attempt in range(attempts):
        try:
            info = fs.get_file_info(path)
            if info.type.name == "File":
                return info.size
        except OSError as error:
            if not is_transient(error) or attempt == attempts - 1:
                raise
        if attempt < attempts - 1:
            time.sleep(first_delay * 2**attempt)
    return None
