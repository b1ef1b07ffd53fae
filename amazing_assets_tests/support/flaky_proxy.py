"""An HTTP proxy in front of the test S3 server that fails a share of requests with 503 SlowDown,
as S3 and MinIO do under load. Used to prove that the storage clients retry.

Failures are pseudo-random from a seed (a fixed every-n-th pattern can resonate with a client's
own request pattern and fail every retry the same way, which no real server does)."""

import http.client
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FlakyProxy:
    def __init__(self, upstream: str, failure_rate: float, seed: int = 0) -> None:
        self.upstream = urlparse(upstream)
        self.failure_rate = failure_rate
        self.random = random.Random(seed)
        self.requests = 0
        self.failed = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers "Expect: 100-continue" as S3 clients expect

            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes | None:
                """The request body without its HTTP chunking. S3 clients stream uploads as
                "aws-chunked" payloads inside HTTP chunks; the server decodes the aws-chunked
                layer itself (its headers are forwarded), as after its own HTTP layer."""
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers (checksums), then the empty line
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            def _handle(self) -> None:
                body = self._body()
                with proxy.lock:
                    proxy.requests += 1
                    fail = proxy.random.random() < proxy.failure_rate
                    proxy.failed += fail
                if fail:
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOW_DOWN)
                    return
                connection = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                dropped = ("connection", "transfer-encoding", "expect")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                # A HEAD response's Content-Length is the object's size, not the (empty) body's.
                length = response.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815 (http.server names)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FlakyProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
