"""Real browsers and real servers for the UI tests: Debian's Chromium driven by Playwright.

Playwright cannot download its own browser here, so tests use the system Chromium
(``make browser`` installs it; ``AMAZING_CHROMIUM`` points elsewhere). Servers run as
subprocesses on free loopback ports, exactly as users start them, with their output in a log
file the tests can inspect (e.g. that no raw customer id was ever logged).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("AMAZING_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(
    os.environ.get("AMAZING_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts")
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium; fails (in CI) or skips (elsewhere) with the command that installs it."""
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: run `make browser` (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleErrors:
    """Console errors and uncaught exceptions of a page, as the browser's devtools show them."""

    messages: list[str] = field(default_factory=list)

    def attach(self, page) -> ConsoleErrors:
        page.on(
            "console", lambda m: m.type == "error" and self.messages.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))
        return self

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_server(
    command: list[str],
    url: str,
    log: Path,
    env: dict[str, str],
    timeout: float = 120,
    ready_url: str | None = None,
) -> Server:
    """Start ``command`` and wait until ``ready_url`` (default ``url``) answers below HTTP 500.

    Give a health endpoint as ``ready_url`` when loading ``url`` itself would warm the server
    and hide the cost a first visitor pays.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("wb")
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    server = Server(process, url, log)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited at start:\n{server.output()[-3000:]}")
        try:
            with urllib.request.urlopen(ready_url or url, timeout=5) as response:
                if response.status < 500:
                    return server
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{server.output()[-3000:]}")


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under the test artefacts folder; returns its path."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
