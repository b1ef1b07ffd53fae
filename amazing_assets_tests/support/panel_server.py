"""The Panel app served as users start it (``panel serve panel_app/app.py --warm``), for the
browser tests: one server per test module (the ``app`` fixture in conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from amazing_assets_tests.conftest import free_port
from amazing_assets_tests.support.browser import start_server

REPO = Path(__file__).resolve().parents[2]
PANEL = str(Path(sys.executable).parent / "panel")


def serve_app(warehouse: Path, home: Path, log: Path, extra_args=(), extra_env=None):
    port = free_port()
    env = {
        **os.environ,
        "AMAZING_HOME": str(home),
        "AMAZING_WAREHOUSE": str(warehouse),
        "AMAZING_LANDING": str(warehouse.parent / "landing"),
        **(extra_env or {}),
    }
    command = [
        PANEL,
        "serve",
        str(REPO / "panel_app" / "app.py"),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        "--allow-websocket-origin",
        f"127.0.0.1:{port}",
        "--warm",  # as deployed: imports and the first render happen before the port opens
        "--liveness",
        *extra_args,
    ]
    root = f"http://127.0.0.1:{port}"
    # Readiness from the health endpoint: loading /app would warm the first session's caches.
    return start_server(command, f"{root}/app", log, env, ready_url=f"{root}/liveness")
