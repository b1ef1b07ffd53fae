"""Every log line the project's Dagster code emits goes through :func:`redact` first.

Dagster prints a run's records to the job's ``console`` logger (colored text on stderr,
unredacted), which compose ships with the container's output, and a sensor's or schedule's
``context.log`` to a console and to the tick's captured logs. The ECS handlers of
``dagster.yaml`` were redacted, those were not. Here:

* :data:`redacting_console_logger` replaces Dagster's default ``console`` logger for every job
  of the code location (``Definitions(loggers=...)``), same config (``log_level``, ``name``).
  Dagster uses a job's own loggers only when the run config names them (``loggers:
  {console: ...}``); a run without that section (the launchpad's default, sensors, schedules,
  backfills, the UI's materialisations) gets Dagster's colored console instead, unredacted. So
  :func:`install_redacting_logger_class` also makes every logger created afterwards, Dagster's
  default console included (it is built from ``logging.getLoggerClass()``), mask each record
  before its handlers see it;
* :class:`RedactingFilter` masks a record's message (and Dagster's copy of it) before any
  handler sees it: put on the console logger, on the handlers of ``dagster.yaml`` and on the
  loggers of sensors and schedules (:func:`redacted_log`).
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

from amazing_assets.lib.observability.ecs import DAGSTER_META, redact


class RedactingFilter(logging.Filter):
    """Masks raw ids and sessions in a record's text; the run's own id stays readable."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, DAGSTER_META, None)
        run_id = meta.get("run_id") if isinstance(meta, dict) else None
        record.msg, record.args = redact(record.getMessage(), run_id), ()
        if isinstance(meta, dict) and isinstance(meta.get("orig_message"), str):
            setattr(record, DAGSTER_META, {**meta, "orig_message": redact(meta["orig_message"])})
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, run_id)
            record.exc_info = None  # the text above is what handlers print
        return True


class RedactingLogger(logging.Logger):
    """A logger that masks every record (:class:`RedactingFilter`) before any handler sees it."""

    _redacting = RedactingFilter()

    def handle(self, record: logging.LogRecord) -> None:
        self._redacting.filter(record)
        super().handle(record)


def install_redacting_logger_class() -> None:
    """Make loggers created from now on :class:`RedactingLogger` (idempotent).

    Process-wide on purpose: what any logger of the code location's processes prints ends up in
    the log stream. A logger class another library set stays in the chain."""
    current = logging.getLoggerClass()
    if issubclass(current, RedactingLogger):
        return
    if current is logging.Logger:
        logging.setLoggerClass(RedactingLogger)
    else:
        logging.setLoggerClass(type(f"Redacting{current.__name__}", (RedactingLogger, current), {}))


class RedactingFormatter(logging.Formatter):
    """Dagster's console format, redacted as a whole (a traceback included)."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, DAGSTER_META, None)
        run_id = meta.get("run_id") if isinstance(meta, dict) else None
        return redact(super().format(record), run_id)


CONSOLE_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


@dg.logger(
    {
        "log_level": dg.Field(str, is_required=False, default_value="INFO"),
        "name": dg.Field(str, is_required=False, default_value="dagster"),
    },
    description="Dagster's console logger, with raw ids and sessions masked.",
)
def redacting_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger(config["name"], level=config["log_level"].upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(CONSOLE_FORMAT))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    return logger


def redacted_log(context) -> logging.Logger:
    """A sensor's or schedule's ``context.log`` with :class:`RedactingFilter` on it (added once)."""
    log = context.log
    if not any(isinstance(f, RedactingFilter) for f in log.filters):
        log.addFilter(RedactingFilter())
    return log
