"""Shared fixtures: one real local Spark session per test process, real data on disk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
REAL_17K = REAL_DATA / "2019-Oct-head-17k.csv"
REAL_BOM = REAL_DATA / "2019-Oct-head-bom.csv"

# The embedded default must never touch the developer's ./.amazing from tests.
os.environ.setdefault("AMAZING_PSEUDONYMIZATION_KEY", "test-key-0123456789abcdef0123456789abcdef")
# Spark's Python workers read S3 credentials from the environment they inherit when the JVM
# starts, so the fake credentials of the test S3 server are set before any session exists.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_REGION", "us-east-1")


JVM_TIERS = ("spark", "slow", "browser")
"""Markers of the tiers that may start a JVM; every other test is a unit test and must not."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the ``spark`` fixture (directly or through another) is a Spark test."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(autouse=True)
def _unit_tests_start_no_spark(request: pytest.FixtureRequest, monkeypatch) -> None:
    """The unit tier means what it says: a test without a JVM tier's marker that asks for a
    SparkSession fails, even when another test of the process already started one."""
    if any(request.node.get_closest_marker(tier) for tier in JVM_TIERS):
        return
    from pyspark.sql import SparkSession

    def refuse(*_args, **_kwargs):
        raise RuntimeError(
            f"{request.node.nodeid} asked for a SparkSession but is a unit test: mark it "
            "@pytest.mark.spark (or slow), or keep Spark out of it"
        )

    monkeypatch.setattr(SparkSession.Builder, "getOrCreate", refuse)


def real_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real excerpt {path} not available (shared/ is beside the repository in CI)")
    return path


@pytest.fixture(scope="session")
def spark():
    from amazing_assets.lib.spark import build_spark_session

    session = build_spark_session(
        master="local[2]",
        conf={"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "2g"},
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def backfilled(tmp_path_factory, spark):
    """Two generated months through the whole pipeline, once per session (see pipeline_run)."""
    from amazing_assets_tests.support.pipeline_run import backfill_generated_months

    return backfill_generated_months(tmp_path_factory.mktemp("pipeline"))


@pytest.fixture(scope="module")
def app(backfilled, tmp_path_factory):
    """The Panel app on the session's pipeline warehouse, one server per browser-test module."""
    from amazing_assets_tests.support.panel_server import serve_app

    server = serve_app(
        backfilled.warehouse, backfilled.home, tmp_path_factory.mktemp("app") / "panel.log"
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per browser-test module."""
    from amazing_assets_tests.support.browser import chromium

    with chromium() as instance:
        yield instance


@pytest.fixture
def landing_with_real_october(tmp_path: Path) -> Path:
    """A landing zone whose 2019-10 folder holds the real 17k-row excerpt."""
    month = tmp_path / "landing" / "2019-10"
    month.mkdir(parents=True)
    shutil.copy(real_file(REAL_17K), month / REAL_17K.name)
    return tmp_path / "landing"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = 90) -> None:
    """Poll ``predicate`` (connection errors count as "not yet") until true, or fail saying what."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def start_moto(extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """moto's S3 server as a subprocess on a free loopback port; returns (process, endpoint).

    A subprocess, not moto's in-process thread: deltalake's native calls would otherwise wait on
    a server that needs the same interpreter to answer.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **(extra_env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            raise RuntimeError("the moto S3 server exited at start")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the moto S3 server did not start within 60 s")


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 protocol server (moto's server mode) for the whole session."""
    process, endpoint = start_moto()
    yield endpoint
    process.terminate()
    process.wait(10)


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A fresh bucket on the test server; AMAZING_S3_ENDPOINT points at it."""
    import uuid

    import boto3

    monkeypatch.setenv("AMAZING_S3_ENDPOINT", s3_server)
    name = f"amazing-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return name
