"""Ship ECS log records to Logstash over HTTP with a persistent queue: nothing is lost while down.

python-logstash-async writes every record to a SQLite queue on local disk first; a worker thread
sends batches to Logstash's ``http`` input and deletes them only once Logstash answered 200.
While Logstash (or Elasticsearch behind it) is down, records wait in the queue, across process
restarts, and go out when it is back: delivery is at least once, never lost (plain TCP or UDP
shipping drops records when the peer is away).

Configured from the environment so one ``dagster.yaml`` serves every container:

* ``AMAZING_LOGSTASH_URL``: e.g. ``http://logstash:8080`` (unset: the handler stays silent and
  records only go to the other handlers);
* ``AMAZING_LOG_QUEUE``: the SQLite queue file (default ``$AMAZING_HOME/logs/ship-queue.db``,
  one per container: SQLite files must not be shared over network filesystems);
* ``AMAZING_LOG_FLUSH_SECONDS``: how often queued records are sent (default 5).
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from urllib.parse import urlparse

from logstash_async.constants import constants
from logstash_async.handler import AsynchronousLogstashHandler

from amazing_assets.lib.observability.ecs import DagsterEcsFormatter
from amazing_assets.lib.settings import log_shipping_settings

URL_ENV = "AMAZING_LOGSTASH_URL"


class LogstashHttpHandler(AsynchronousLogstashHandler):
    """ECS records to Logstash's http input, through a persistent on-disk queue."""

    def __init__(
        self,
        url: str | None = None,
        queue_path: str | None = None,
        flush_seconds: float | None = None,
    ) -> None:
        configured = log_shipping_settings()
        url = url or configured.url
        parsed = urlparse(url or "http://disabled")
        if url and (parsed.scheme not in ("http", "https") or not parsed.hostname):
            raise ValueError(f"{URL_ENV}={url!r}: use http(s)://host:port of Logstash's http input")
        https = parsed.scheme == "https"
        queue = Path(queue_path or configured.queue_path)
        queue.parent.mkdir(parents=True, exist_ok=True)
        constants.QUEUED_EVENTS_FLUSH_INTERVAL = float(flush_seconds or configured.flush_seconds)
        super().__init__(
            host=parsed.hostname,
            port=parsed.port or (443 if https else 80),
            database_path=str(queue),
            transport="logstash_async.transport.HttpTransport",
            ssl_enable=https,
            enable=bool(url),  # no URL: records only go to the other handlers
            path=parsed.path.lstrip("/"),
        )
        self.setFormatter(DagsterEcsFormatter())
        _HANDLERS.append(self)

    def close(self) -> None:
        """Detach this handler only; the shared sender is drained once, at interpreter exit.

        Dagster re-applies ``dagster_handler_config`` (``logging.config.dictConfig``) for each
        step, which closes the previous handlers while holding logging's module lock. The
        library's ``close()`` joins its worker thread, which may be waiting for that same lock:
        a deadlock. Records are safe meanwhile: the worker thread keeps running and writes them
        to the on-disk queue.
        """
        logging.Handler.close(self)


_HANDLERS: list[LogstashHttpHandler] = []


@atexit.register  # registered after logging's own exit hook, so it runs before it
def drain_at_exit() -> None:
    """Move records still in memory to the on-disk queue and try one last send."""
    if _HANDLERS:
        _HANDLERS[-1].shutdown()
