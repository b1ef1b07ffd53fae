"""Two runs writing the same month at once: one wins or both serialise; no version loses a file.

Before: every commit swept all uncommitted files of its months (another live run's included),
and on S3 commits used delta-rs' unsafe rename, so two writers could both claim a version.
"""

from __future__ import annotations

import threading

import pytest

from amazing_assets.lib.delta_tables import month_row_counts, open_table, read_months
from amazing_assets.lib.io_managers import write_months
from amazing_assets.lib.storage import Location, s3_settings_from_env

pytestmark = pytest.mark.spark

ROUNDS = 3


def race(spark, location: Location) -> list[BaseException]:
    """Two threads replace 2019-10 at the same time, ``ROUNDS`` times; return their errors."""
    errors: list[BaseException] = []

    def writer(tag: int, rows: int) -> None:
        frame = spark.createDataFrame(
            [("2019-10", tag, i) for i in range(rows)], "month string, writer int, id long"
        ).repartition(3)
        try:
            write_months(frame, location, ["2019-10"], f"writer {tag}")
        except BaseException as error:  # a lost race is an expected outcome
            errors.append(error)

    for _ in range(ROUNDS):
        threads = [threading.Thread(target=writer, args=(t, 1_000 * t)) for t in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return errors


def assert_every_version_complete(location: Location) -> None:
    """Every version reads back whole: each file it names exists, and it holds one writer's rows."""
    latest = open_table(location).version()
    for version in range(latest + 1):
        table = read_months(location, ["2019-10"], version=version)
        writers = set(table.column("writer").to_pylist())
        assert len(writers) <= 1, (version, writers)  # never a mix of two writes
        if writers:
            assert table.num_rows == 1_000 * writers.pop(), version
    assert month_row_counts(location).get("2019-10") in (1_000, 2_000)


def assert_only_conflicts(errors: list[BaseException]) -> None:
    for error in errors:
        assert "concurrent" in str(error).lower() or "conflict" in str(error).lower(), error


@pytest.mark.slow
def test_concurrent_writes_of_a_month_on_local_storage(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    errors = race(spark, location)
    assert len(errors) < 2 * ROUNDS  # something landed
    assert_only_conflicts(errors)
    assert_every_version_complete(location)


@pytest.mark.slow
def test_concurrent_writes_of_a_month_on_the_s3_server(spark, s3_bucket):
    location = Location.parse(f"s3://{s3_bucket}/warehouse/t", s3_settings_from_env())
    errors = race(spark, location)
    assert len(errors) < 2 * ROUNDS
    assert_only_conflicts(errors)
    assert_every_version_complete(location)
