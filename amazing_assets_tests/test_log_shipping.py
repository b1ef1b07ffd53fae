"""Log shipping loses nothing while Logstash is down, across process restarts; no raw id leaves.

Writers are real separate processes using the handler ``dagster.yaml`` configures; the receiver
is a real HTTP server speaking Logstash's http input (see ``logstash_endpoint``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from amazing_assets.lib.observability.ecs import REDACTED
from amazing_assets_tests.conftest import free_port
from amazing_assets_tests.support.logstash_endpoint import LogEndpoint

WRITER = textwrap.dedent(
    """
    import logging, sqlite3, sys, time
    from amazing_assets.lib.observability.shipping import LogstashHttpHandler

    url, queue, first, count, mode = sys.argv[1:6]
    handler = LogstashHttpHandler(url=url, queue_path=queue, flush_seconds=0.3)
    log = logging.getLogger("amazing_assets.shipping_test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    for seq in range(int(first), int(first) + int(count)):
        log.info("record %d about user 541312140", seq, extra={"seq": seq})
    deadline = time.time() + {"drain": 60, "down": 2, "exit": 0}[mode]
    while time.time() < deadline:
        time.sleep(0.3)
        if mode == "drain":
            with sqlite3.connect(queue) as db:
                if db.execute("select count(*) from event").fetchone()[0] == 0:
                    break
    """
)


def write_logs(url: str, queue: Path, first: int, count: int, mode: str) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, url, str(queue), str(first), str(count), mode],
        check=True,
        timeout=120,
    )


def queued(queue: Path) -> int:
    with sqlite3.connect(queue) as db:
        return db.execute("select count(*) from event").fetchone()[0]


def wait_for(endpoint: LogEndpoint, expected: set[int], timeout: float = 30) -> Counter:
    deadline = time.time() + timeout
    while time.time() < deadline:
        seen = Counter(e.get("seq") for e in endpoint.received())
        if expected <= set(seen):
            return seen
        time.sleep(0.2)
    return Counter(e.get("seq") for e in endpoint.received())


def test_records_logged_while_logstash_is_down_arrive_after_it_returns(tmp_path):
    endpoint = LogEndpoint(free_port())
    queue = tmp_path / "queue.db"

    # Logstash is down: a whole process logs 300 records and exits at once (records still in
    # memory go to the on-disk queue at exit); they wait there.
    write_logs(endpoint.url, queue, 0, 300, "exit")
    assert queued(queue) == 300

    # Logstash is back; the next process (e.g. the next Dagster run) sends its own and the backlog.
    endpoint.start()
    try:
        write_logs(endpoint.url, queue, 300, 20, "drain")
        seen = wait_for(endpoint, set(range(320)))
    finally:
        endpoint.stop()
    assert set(seen) == set(range(320)), f"lost: {sorted(set(range(320)) - set(seen))[:10]}"
    duplicates = sum(n - 1 for n in seen.values())
    assert duplicates <= 320  # at least once: a resend after a timeout may repeat a batch
    assert queued(queue) == 0


def test_records_refused_with_503_are_kept_and_resent(tmp_path):
    endpoint = LogEndpoint(free_port()).start()
    endpoint.refuse_with = 503  # Logstash up, Elasticsearch behind it pushing back
    queue = tmp_path / "queue.db"
    try:
        write_logs(endpoint.url, queue, 0, 50, "down")
        assert endpoint.received() == [] and queued(queue) == 50
        endpoint.refuse_with = None
        write_logs(endpoint.url, queue, 50, 1, "drain")
        seen = wait_for(endpoint, set(range(51)))
    finally:
        endpoint.stop()
    assert set(seen) == set(range(51))


def test_shipped_records_are_ecs_json_without_raw_ids(tmp_path):
    endpoint = LogEndpoint(free_port()).start()
    try:
        write_logs(endpoint.url, tmp_path / "queue.db", 0, 5, "drain")
        records = endpoint.received()
    finally:
        endpoint.stop()
    assert len(records) >= 5
    for record in records:
        assert record["ecs.version"] and record["@timestamp"] and record["log.level"] == "info"
        assert record["service"]["name"] == "amazing-segments"
        assert "541312140" not in json.dumps(record)
        assert record["message"].endswith(f"about user {REDACTED}")
