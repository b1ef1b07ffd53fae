"""A local HTTP endpoint speaking Logstash's ``http`` input and Elasticsearch's ``_bulk`` API.

No Logstash or Elasticsearch can run here, so the shipping tests send to this: a real HTTP
server on a loopback port that can be stopped (Logstash down), answer 503 (Elasticsearch
pushing back), and records every event it accepted.

* ``POST /`` with a JSON array or object: Logstash's http input (each element is an event);
* ``POST /_bulk`` with NDJSON action/document pairs: Elasticsearch's bulk API.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LogEndpoint:
    def __init__(self, port: int) -> None:
        self.port = port
        self.events: list[dict] = []
        self.refuse_with: int | None = None  # answer this status instead of accepting
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LogEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if endpoint.refuse_with:
                    self.send_response(endpoint.refuse_with)
                    self.end_headers()
                    return
                try:
                    events = parse(self.path, body)
                except ValueError as error:
                    self.send_response(400)
                    self.end_headers()
                    self.wfile.write(str(error).encode())
                    return
                with endpoint._lock:
                    endpoint.events.extend(events)
                reply = json.dumps(
                    {"errors": False, "items": [{"index": {"status": 201}} for _ in events]}
                    if self.path.endswith("_bulk")
                    else "ok"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def received(self) -> list[dict]:
        with self._lock:
            return list(self.events)


def parse(path: str, body: bytes) -> list[dict]:
    """Events of one request; raises ValueError on anything the real servers would refuse."""
    if path.endswith("_bulk"):
        lines = [line for line in body.decode().splitlines() if line.strip()]
        if len(lines) % 2:
            raise ValueError("bulk body must hold action/document pairs")
        return [json.loads(doc) for doc in lines[1::2]]
    payload = json.loads(body)
    events = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(e, dict) for e in events):
        raise ValueError("events must be JSON objects")
    return events
