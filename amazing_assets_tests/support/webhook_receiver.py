"""A real HTTP endpoint that records what an incoming-webhook client posts to it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    posts: list[dict] = field(default_factory=list)
    status: int = 200


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    """(the webhook URL, what it received); its path holds a token, as real webhook URLs do."""
    received = Received()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.posts.append(
                {"json": json.loads(body), "content_type": self.headers["Content-Type"]}
            )
            self.send_response(received.status)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/T000/SECRET-TOKEN", received
    finally:
        server.shutdown()
