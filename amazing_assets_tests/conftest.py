"""Shared fixtures: one real local Spark session per test process, real data on disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
REAL_17K = REAL_DATA / "2019-Oct-head-17k.csv"
REAL_BOM = REAL_DATA / "2019-Oct-head-bom.csv"

# The embedded default must never touch the developer's ./.amazing from tests.
os.environ.setdefault("AMAZING_PSEUDONYMIZATION_KEY", "test-key-0123456789abcdef0123456789abcdef")


def real_file(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real excerpt {path} not available (shared/ is beside the repository in CI)")
    return path


@pytest.fixture(scope="session")
def spark():
    from amazing_assets.resources.spark_session import build_spark_session

    session = build_spark_session(
        master="local[2]",
        conf={"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "2g"},
    )
    yield session
    session.stop()


@pytest.fixture
def landing_with_real_october(tmp_path: Path) -> Path:
    """A landing zone whose 2019-10 folder holds the real 17k-row excerpt."""
    month = tmp_path / "landing" / "2019-10"
    month.mkdir(parents=True)
    shutil.copy(real_file(REAL_17K), month / REAL_17K.name)
    return tmp_path / "landing"
