"""Concurrent writes of a month the table does not hold yet, or of a table that does not exist.

Before (issue 24, finding 5): two writes of a month absent from the table both committed (the
month doubled), and two first writes of a new table could make one month vanish (the creation
was an overwrite of the whole table). Real writers (the project's ``DeltaWriter``: Parquet files
written by the executor code path, committed by the driver code path with delta-rs) race in
threads on a real Delta table, locally and on the S3 test server. A barrier holds each writer
between planning (its snapshot) and its commit, so the two commits overlap on every run, as two
runs' Spark jobs would.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pyarrow as pa
import pytest
from pyspark.sql.pandas.types import from_arrow_schema

from amazing_assets.lib.delta_source import DeltaWriter
from amazing_assets.lib.delta_tables import month_row_counts, open_table, write_arrow_months
from amazing_assets.lib.storage import Location, s3_settings_from_env

SCHEMA = pa.schema([("month", pa.string()), ("writer", pa.int64()), ("id", pa.int64())])
ROUNDS = 4


def rows(month: str, writer: int, count: int) -> pa.Table:
    return pa.table(
        {"month": [month] * count, "writer": [writer] * count, "id": list(range(count))},
        schema=SCHEMA,
    )


def spark_write(location: Location, month: str, writer: int, count: int) -> Callable[[], None]:
    """Plan a write now (snapshot), write its files; the returned call commits them."""
    delta_writer = DeltaWriter(location, from_arrow_schema(SCHEMA), [month], uuid.uuid4().hex)
    message = delta_writer.write(iter(rows(month, writer, count).to_batches()))
    return lambda: delta_writer.commit([message])


def arrow_write(location: Location, month: str, writer: int, count: int) -> Callable[[], None]:
    """The driver-side writer (models, profiles): no planning step, it commits when called."""
    return lambda: write_arrow_months(location, rows(month, writer, count), [month])


def race(commits: list[Callable[[], None]]) -> list[BaseException]:
    """Run the commits at once; return the errors of those that failed."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(commits))

    def run(commit: Callable[[], None]) -> None:
        barrier.wait()
        try:
            commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in commits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def assert_conflicts_only(errors: list[BaseException]) -> None:
    for error in errors:
        assert "concurrent write" in str(error), repr(error)


def assert_versions_whole(location: Location) -> None:
    """No version of the table ever mixes two writers' rows for one month."""
    for version in range(open_table(location).version() + 1):
        table = open_table(location, version).to_pyarrow_table()
        for month in set(table.column("month").to_pylist()):
            of_month = table.filter(pa.compute.equal(table.column("month"), month))
            writers = set(of_month.column("writer").to_pylist())
            assert len(writers) == 1, (version, month, writers)
            assert of_month.num_rows == 100 * writers.pop(), (version, month)


def local(tmp_path, name: str) -> Location:
    return Location.parse(str(tmp_path / name))


WRITERS = {"spark": spark_write, "arrow": arrow_write}


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("table_exists", [False, True], ids=["new_table", "month_absent"])
def test_two_first_writes_of_one_month_fail_one_writer(tmp_path, kind, table_exists) -> None:
    write = WRITERS[kind]
    for attempt in range(ROUNDS):
        location = local(tmp_path, f"{kind}-{attempt}")
        if table_exists:  # the table holds another month only
            write(location, "2019-09", 1, 100)()
        errors = race([write(location, "2019-10", 1, 100), write(location, "2019-10", 2, 200)])
        assert len(errors) == 1, (attempt, errors)  # one writer fails, every time
        assert_conflicts_only(errors)
        assert month_row_counts(location)["2019-10"] in (100, 200)  # never 300
        assert_versions_whole(location)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_first_writes_of_two_months_of_a_new_table_keep_both(tmp_path, kind) -> None:
    write = WRITERS[kind]
    for attempt in range(ROUNDS):
        location = local(tmp_path, f"{kind}-{attempt}")
        errors = race([write(location, "2019-10", 1, 100), write(location, "2019-11", 2, 200)])
        assert errors == [], errors
        assert month_row_counts(location) == {"2019-10": 100, "2019-11": 200}


def test_a_write_planned_before_another_commit_of_its_month_fails_however_late(tmp_path) -> None:
    """The snapshot is the plan's: a month committed while this job ran fails this commit."""
    location = local(tmp_path, "t")
    late = spark_write(location, "2019-10", 2, 200)  # planned when the table did not exist
    spark_write(location, "2019-10", 1, 100)()  # another run plans and commits meanwhile
    with pytest.raises(Exception, match="concurrent write of 2019-10"):
        late()
    assert month_row_counts(location) == {"2019-10": 100}
    spark_write(location, "2019-10", 2, 200)()  # a re-run planned afterwards replaces it
    assert month_row_counts(location) == {"2019-10": 200}


@pytest.mark.slow
def test_first_writes_race_on_the_s3_server(s3_bucket) -> None:
    for attempt in range(2):
        location = Location.parse(f"s3://{s3_bucket}/warehouse/t{attempt}", s3_settings_from_env())
        errors = race(
            [spark_write(location, "2019-10", 1, 100), spark_write(location, "2019-10", 2, 200)]
        )
        assert len(errors) == 1, errors
        assert_conflicts_only(errors)
        assert month_row_counts(location)["2019-10"] in (100, 200)
        assert_versions_whole(location)
