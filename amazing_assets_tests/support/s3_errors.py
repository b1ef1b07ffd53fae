"""A local HTTP server that answers every S3 request with one chosen S3 error, so that the real
clients (pyarrow's S3 filesystem, botocore) raise the very exceptions, with the very messages,
that a store in trouble makes them raise. Counts requests, to see how often a caller retried."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.fs as pafs


@dataclass(frozen=True)
class S3Error:
    """An S3 error answer: HTTP status, S3 error code (None: an empty body) and message."""

    status: int
    code: str | None
    message: str = ""

    def body(self) -> bytes:
        if self.code is None:
            return b""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message>"
            "<RequestId>1</RequestId></Error>"
        ).encode()


class S3ErrorServer:
    """``with S3ErrorServer(S3Error(503, "SlowDown", ...)) as server:`` then ``server.fs()``."""

    def __init__(self, error: S3Error) -> None:
        self.error = error
        self.requests = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with lock:
                    server.requests += 1
                body = server.error.body()
                self.send_response(server.error.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer  # noqa: N815 (http.server names)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def fs(self) -> pafs.S3FileSystem:
        """pyarrow's S3 client on this server, retrying nothing itself (one request a call)."""
        return s3_filesystem(f"127.0.0.1:{self.httpd.server_address[1]}")

    def botocore_client(self):
        import botocore.config
        import botocore.session

        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def __enter__(self) -> S3ErrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def s3_filesystem(endpoint: str) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        access_key="test",
        secret_key="test",
        region="us-east-1",
        endpoint_override=endpoint,
        scheme="http",
        connect_timeout=1,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    )
