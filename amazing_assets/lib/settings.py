"""Where things live and how big the windows are, from environment variables.

``AMAZING_ENV`` picks the environment (``local``: embedded defaults under ``./.amazing``;
``docker``: everything must be configured explicitly, nothing falls back to a local file).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from amazing_assets.lib.storage import Location, S3Settings, StorageConfigError

ENVIRONMENTS = ("local", "docker")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    env: str
    home: Path
    warehouse_uri: str
    landing_uri: str
    feature_window_months: int
    spark_master: str
    spark_conf: dict[str, str]
    history_retention_days: float = 7.0
    landing_retention_days: float | None = None
    alert_file: str | None = None
    """``AMAZING_ALERT_FILE``; on the embedded default ``$AMAZING_HOME/alerts/alerts.jsonl``."""
    app_url: str = "http://localhost:5006/app"
    """``AMAZING_APP_URL``: where the Panel app is served, for the links in alerts."""
    alert_language: str = "fr"
    """``AMAZING_ALERT_LANGUAGE``: ``fr`` or ``en``."""

    @property
    def is_local(self) -> bool:
        return self.env == "local"

    @property
    def local_key_file(self) -> Path:
        """Embedded default key file: beside the warehouse, never inside it."""
        return self.home / "secrets" / "pseudonymization.key"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env_vars = _environ(environ)
    env = env_vars.get("AMAZING_ENV", "local")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"AMAZING_ENV={env!r} is not one of {ENVIRONMENTS}")
    home = Path(env_vars.get("AMAZING_HOME", ".amazing")).expanduser().resolve()
    required = {} if env == "local" else {"AMAZING_WAREHOUSE": None, "AMAZING_LANDING": None}
    for name in required:
        if not env_vars.get(name):
            raise SettingsError(
                f"{name} must be set when AMAZING_ENV={env} (e.g. s3://amazing/warehouse)"
            )
    window_text = env_vars.get("AMAZING_FEATURE_WINDOW_MONTHS", "3")
    try:
        window = int(window_text)
    except ValueError:
        window = 0
    if not 1 <= window <= 24:
        raise SettingsError(
            f"AMAZING_FEATURE_WINDOW_MONTHS={window_text!r}: use a whole number of months, 1-24"
        )
    warehouse_uri = env_vars.get("AMAZING_WAREHOUSE") or str(home / "warehouse")
    landing_uri = env_vars.get("AMAZING_LANDING") or str(home / "landing")
    for name, uri in (("AMAZING_WAREHOUSE", warehouse_uri), ("AMAZING_LANDING", landing_uri)):
        try:  # fail at load time, before any run, with the variable to fix
            Location.parse(uri, S3Settings(), setting=name)
        except StorageConfigError as error:
            raise SettingsError(str(error)) from error
    settings = Settings(
        env=env,
        home=home,
        warehouse_uri=warehouse_uri,
        landing_uri=landing_uri,
        feature_window_months=window,
        spark_master=env_vars.get("AMAZING_SPARK_MASTER", "local[*]"),
        spark_conf=parse_spark_conf(env_vars.get("AMAZING_SPARK_CONF", "")),
        history_retention_days=days(env_vars, "AMAZING_HISTORY_RETENTION_DAYS", "7"),
        landing_retention_days=(
            days(env_vars, "AMAZING_LANDING_RETENTION_DAYS", "")
            if env_vars.get("AMAZING_LANDING_RETENTION_DAYS")
            else None
        ),
    )
    refuse_key_inside_warehouse(settings)
    return with_alert_settings(settings, env_vars)


def with_alert_settings(settings: Settings, env_vars: Environ) -> Settings:
    """Where alerts go (the webhook itself is a secret: ``AMAZING_ALERT_WEBHOOK`` reaches the
    resource as a ``dg.EnvVar``, never as a value here)."""
    language = env_vars.get("AMAZING_ALERT_LANGUAGE", "fr")
    if language not in ("fr", "en"):
        raise SettingsError(f"AMAZING_ALERT_LANGUAGE={language!r}: use fr or en")
    default_file = str(settings.home / "alerts" / "alerts.jsonl") if settings.is_local else None
    return replace(
        settings,
        alert_file=env_vars.get("AMAZING_ALERT_FILE") or default_file,
        app_url=env_vars.get("AMAZING_APP_URL") or settings.app_url,
        alert_language=language,
    )


def days(env_vars, name: str, default: str) -> float:
    """A retention setting in days (``0.5`` allowed); a bad value fails at load time."""
    text = env_vars.get(name) or default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"{name}={text!r}: use a number of days >= 0 (e.g. 7)")
    return value


def refuse_key_inside_warehouse(settings: Settings) -> None:
    """The key must never sit with the data it protects: whoever reads the warehouse (the app,
    a backup, a shared bucket) or the landing zone could then re-identify every customer.

    Both places are normalised by :meth:`Location.parse`, the parser the storage itself uses
    (``file://`` URIs, relative paths, ``~``, trailing slashes), and symlinks are resolved on
    both sides, so the check compares the folders the files really land in.
    """
    if not settings.is_local:
        return
    key = settings.local_key_file.expanduser().resolve()
    for name, uri in (
        ("AMAZING_WAREHOUSE", settings.warehouse_uri),
        ("AMAZING_LANDING", settings.landing_uri),
    ):
        location = Location.parse(uri, S3Settings(), setting=name)
        if location.is_s3:
            continue
        if key.is_relative_to(Path(location.path).resolve()):
            raise SettingsError(
                f"{name} contains the pseudonymisation key file {settings.local_key_file}: "
                "point it at a folder of its own (e.g. $AMAZING_HOME/warehouse)"
            )


def parse_spark_conf(text: str) -> dict[str, str]:
    """``AMAZING_SPARK_CONF``: ``spark.key=value`` pairs separated by spaces or newlines.

    For what a cluster needs from the driver (``spark.driver.host``, executor memory and cores);
    secrets never go here (executors read credentials from their own environment).
    """
    conf = {}
    for pair in text.split():
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("spark.") or not value:
            raise SettingsError(
                f"AMAZING_SPARK_CONF: {pair!r} is not spark.key=value "
                "(pairs separated by spaces, e.g. 'spark.executor.memory=2g spark.cores.max=4')"
            )
        conf[key] = value
    return conf


# Everything else the code location takes from its environment, read here and only here (a test
# fails when another product module touches ``os.environ``). Each reader takes an optional
# mapping so tests pass their own environment instead of patching the process'.

Environ = Mapping[str, str]


def _environ(environ: Environ | None) -> Environ:
    return os.environ if environ is None else environ


def is_set(name: str, environ: Environ | None = None) -> bool:
    """Whether ``name`` holds a value. Resources then take ``dg.EnvVar(name)``: the UI shows
    the variable's name, never its value."""
    return bool(_environ(environ).get(name))


def s3_settings_from_env(environ: Environ | None = None) -> S3Settings:
    """S3 settings from the standard variables plus ``AMAZING_S3_ENDPOINT``."""
    env = _environ(environ)
    return S3Settings(
        endpoint_url=env.get("AMAZING_S3_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        session_token=env.get("AWS_SESSION_TOKEN") or None,
    )


KEY_ENV_VAR = "AMAZING_PSEUDONYMIZATION_KEY"


def pseudonymization_key_from_env(environ: Environ | None = None) -> bytes | None:
    """The pseudonymisation key when the deployment passes it in the environment."""
    key = _environ(environ).get(KEY_ENV_VAR)
    return key.encode() if key else None


def environment_name(environ: Environ | None = None) -> str:
    """``AMAZING_ENV`` as logs report it (``service.environment``)."""
    return _environ(environ).get("AMAZING_ENV", "local")


def app_authentication_forced(environ: Environ | None = None) -> bool:
    """``AMAZING_APP_REQUIRE_AUTH=true``: the app requires authentication on a local install."""
    return _environ(environ).get("AMAZING_APP_REQUIRE_AUTH", "").lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class LogShippingSettings:
    url: str
    """``AMAZING_LOGSTASH_URL``: Logstash's http input; empty: records are not shipped."""
    queue_path: Path
    """``AMAZING_LOG_QUEUE``: the on-disk queue (default ``$AMAZING_HOME/logs/ship-queue.db``)."""
    flush_seconds: float
    """``AMAZING_LOG_FLUSH_SECONDS``: how often queued records are sent (default 5)."""


def log_shipping_settings(environ: Environ | None = None) -> LogShippingSettings:
    env = _environ(environ)
    home = Path(env.get("AMAZING_HOME", ".amazing")).expanduser()
    return LogShippingSettings(
        url=env.get("AMAZING_LOGSTASH_URL", ""),
        queue_path=Path(env.get("AMAZING_LOG_QUEUE") or home / "logs" / "ship-queue.db"),
        flush_seconds=float(env.get("AMAZING_LOG_FLUSH_SECONDS", "5")),
    )


def use_this_interpreter_for_spark() -> None:
    """Point ``PYSPARK_PYTHON`` at this interpreter (unless set) before a JVM starts: the data
    sources' tasks run in Python workers that must import this environment's code."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def dagster_home(settings: Settings) -> Path:
    """``DAGSTER_HOME``, defaulting to ``$AMAZING_HOME/dagster_home`` (set for this process so
    ``DagsterInstance.get()`` finds it); the folder is created."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.home / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    return home
