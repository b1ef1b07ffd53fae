"""Customer buckets: the stored layout that lets cleaning and features read whole customers
without a shuffle, against Spark itself and against the shuffle path it replaces."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from amazing_assets.lib.buckets import files_by_bucket
from amazing_assets.lib.customer_buckets import bucket_count, customer_buckets, spark_hash
from amazing_assets.lib.delta_source import (
    ROW_GROUP_ROWS,
    BucketGroupedFiles,
    CustomerBucket,
    DeltaWriter,
    TaskFiles,
    file_bucket,
    file_grouping,
    list_files,
    row_group_buckets,
)
from amazing_assets.lib.delta_tables import open_table, read_months
from amazing_assets.lib.storage import Location

LONG_EDGES = [0, 1, -1, 2**31, -(2**31), 2**32, 2**63 - 1, -(2**63), 541_312_140]


@pytest.mark.parametrize("seed", range(8))
def test_the_bucket_is_the_partition_spark_gives_the_user_id(spark, seed):
    rng = random.Random(seed)
    values = [None, *LONG_EDGES]
    values += [rng.randint(-(2**63), 2**63 - 1) for _ in range(500)]
    values += [rng.randint(500_000_000, 600_000_000) for _ in range(500)]  # REES46-like ids
    count = 2 ** rng.randint(0, 7)
    frame = spark.createDataFrame([(v,) for v in values], "user_id long")
    expected = frame.select(
        F.hash("user_id").alias("hash"), F.pmod(F.hash("user_id"), F.lit(count)).alias("bucket")
    ).collect()
    ids = pa.array(values, pa.int64())
    assert spark_hash(ids).tolist() == [r["hash"] for r in expected]
    assert customer_buckets(ids, count).tolist() == [r["bucket"] for r in expected]


def test_bucket_counts_are_powers_of_two_covering_the_cores_and_the_rows():
    assert [bucket_count(n) for n in (0, 1_000_000, 1_000_001, 10_291_958, 43_000_000)] == [
        2,
        2,
        2,
        16,
        64,
    ]
    assert bucket_count(10, slots=6) == 8
    for rows in range(0, 10**8, 7_777_777):
        count = bucket_count(rows, slots=3)
        assert count & (count - 1) == 0 and count >= 3 and rows / count <= 1_000_000


def bucket_table(tmp_path: Path, files: list[CustomerBucket | None]) -> Location:
    """A one-month Delta table with one file per entry: written by a task of that bucket, or
    by a task without one."""
    location = Location.parse(str(tmp_path / "table"))
    schema = pa.schema([("user_id", pa.int64()), ("month", pa.string())])
    writer = DeltaWriter(location, from_arrow_schema(schema), ["2019-10"], uuid.uuid4().hex)
    messages = []
    for i, bucket in enumerate(files):
        task = TaskFiles(writer, bucket)
        task.add(pa.record_batch({"user_id": [i], "month": ["2019-10"]}, schema=schema))
        messages.append(task.close())
    writer.commit(messages)
    return location


def test_files_group_by_the_smallest_bucket_count_and_nest(tmp_path):
    tags = [CustomerBucket(1, 2), CustomerBucket(3, 8), CustomerBucket(6, 8), CustomerBucket(0, 4)]
    location = bucket_table(tmp_path, tags)
    groups = files_by_bucket(location, ["2019-10"])
    assert groups is not None and len(groups) == 2
    by_group = [sorted(file_bucket(f.path).tag for f in group) for group in groups]
    assert by_group == [["b0of4", "b6of8"], ["b1of2", "b3of8"]]


@pytest.mark.parametrize(
    "tags",
    [[CustomerBucket(0, 2), None], [CustomerBucket(0, 2), CustomerBucket(1, 3)]],
    ids=["a file without bucket", "counts that do not nest"],
)
def test_files_that_cannot_be_grouped_by_customer_mean_a_shuffle(tmp_path, tags):
    assert files_by_bucket(bucket_table(tmp_path, tags), ["2019-10"]) is None


def grouped_table(tmp_path: Path, tasks: list[tuple[int, list[int]]], rows_per_file: int):
    """A Delta table written by tasks that hold rows of every bucket (as ingestion's splits):
    ``(bucket count, user ids)`` per task, the ids spread over two months."""
    location = Location.parse(str(tmp_path / "grouped"))
    schema = pa.schema([("user_id", pa.int64()), ("month", pa.string())])
    months = ["2019-10", "2019-11"]
    writer = DeltaWriter(location, from_arrow_schema(schema), months, uuid.uuid4().hex)
    writer.rows_per_file = rows_per_file
    messages = []
    for count, ids in tasks:
        task = BucketGroupedFiles(writer, count)
        for start in range(0, len(ids), 7_000):  # several batches, as a split's parser yields
            chunk = ids[start : start + 7_000]
            month = [months[i % 2] for i in range(start, start + len(chunk))]
            task.add(pa.record_batch({"user_id": chunk, "month": month}, schema=schema))
        messages.append(task.close())
    writer.commit(messages)
    return location, months


@pytest.mark.parametrize("seed", range(4))
def test_grouped_files_keep_whole_buckets_in_row_groups_and_group_like_bucket_files(tmp_path, seed):
    """Ingestion writes one file per split (not one per split and bucket): each row group holds
    one bucket, the footer says which, and bucket reads get every customer's rows, whatever the
    counts (nesting powers of two), the file rolls and the row-group size."""
    rng = random.Random(seed)
    tasks = [
        (2 ** rng.randint(1, 5), [rng.randint(1, 10**9) for _ in range(rng.randint(1, 40_000))])
        for _ in range(rng.randint(1, 4))
    ]
    tasks.append((2, [7] * (2 * ROW_GROUP_ROWS + 10)))  # a customer too big for a row group
    rows_per_file = 10**6 if seed % 2 else rng.randint(5_000, 60_000)  # files roll or not
    location, months = grouped_table(tmp_path, tasks, rows_per_file)
    files = list_files(open_table(location), months)
    assert all(file_grouping(path) and file_bucket(path) is None for path, _ in files)
    for path, _ in files:
        parquet = pq.ParquetFile(f"{location.path}/{path}")
        plan = row_group_buckets(location, path)
        count = file_grouping(path)
        assert plan is not None and len(plan) == parquet.metadata.num_row_groups
        for index, bucket in enumerate(plan):
            ids = parquet.read_row_group(index, columns=["user_id"])["user_id"]
            assert set(customer_buckets(ids, count).tolist()) == {bucket}
    plans = [row_group_buckets(location, path) or [] for path, _ in files]
    if rows_per_file == 10**6:  # the big customer's bucket spans row groups, still its own
        assert any(len(plan) > len(set(plan)) for plan in plans)
    groups = files_by_bucket(location, months)
    smallest = min(count for count, _ in tasks)
    assert groups is not None and len(groups) == smallest
    read = []
    for group_index, group in enumerate(groups):
        table = pa.concat_tables(
            pq.ParquetFile(f"{location.path}/{f.path}").read_row_groups(
                f.row_groups, columns=["user_id"]
            )
            for f in group
        )
        ids = table["user_id"]
        assert set(customer_buckets(ids, smallest).tolist()) <= {group_index}
        read += ids.to_pylist()
    assert sorted(read) == sorted(i for _, ids in tasks for i in ids)  # nothing lost or twice


def test_a_grouped_file_whose_footer_does_not_name_its_buckets_means_a_shuffle(tmp_path):
    location, months = grouped_table(tmp_path, [(4, list(range(1, 5_000)))], 10**6)
    path, _ = list_files(open_table(location), months)[0]
    full = f"{location.path}/{path}"
    pq.write_table(pq.read_table(full).replace_schema_metadata({}), full)  # a rewrite
    assert row_group_buckets(location, path) is None
    assert files_by_bucket(location, months) is None


# ---------------------------------------------------------------------------------------------
# The whole pipeline: buckets versus shuffle, on a population nobody tuned the pipeline for
# ---------------------------------------------------------------------------------------------
SIZES = {0: 2, 1: 8, 2: 32}
"""Bucket counts forced on the window's months (oldest first): nesting counts must still join
a customer's months."""


def sorted_rows(table: pa.Table, digits: int | None = None) -> list[tuple]:
    rows = []
    for row in table.to_pylist():
        values = tuple(
            round(v, digits) if digits is not None and isinstance(v, float) else v
            for v in row.values()
        )
        rows.append(values)
    return sorted(rows, key=repr)


def snapshot(warehouse: Path, months: list[str]) -> dict[str, list[tuple]]:
    tables = {}
    for name, digits in (
        ("clean_events", None),
        ("raw/event_quarantine", None),
        ("user_features_rfm", 9),
    ):
        location = Location.parse(str(warehouse / name))
        tables[name] = sorted_rows(read_months(location, months), digits)
    return tables


def rewrite_without_buckets(location: Location, months: list[str]) -> None:
    """The table's rows in files that name no bucket, as an erasure's rewrite leaves them."""
    from deltalake import write_deltalake

    rows = read_months(location, months)
    write_deltalake(location.table_uri, rows, mode="overwrite", partition_by=["month"])
    assert files_by_bucket(location, months) is None


def materialise(defs: dg.Definitions, month: str, assets: list[str]) -> None:
    result = defs.resolve_job_def("monthly_segments").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=f"{month}-01",
        asset_selection=[dg.AssetKey(a) for a in assets],
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


@pytest.mark.slow
def test_buckets_and_the_shuffle_store_the_same_tables(spark, tmp_path, monkeypatch):
    from amazing_assets.defs.features.features import window_months
    from amazing_assets.defs.ingestion import landing_ingest
    from amazing_assets_tests.support.pipeline_run import definitions_for
    from amazing_assets_tests.support.populations import (
        SEVEN,
        PopulationSpec,
        simulate,
        write_landing,
    )

    spec = PopulationSpec("buckets", 1_500, SEVEN, seed=31, as_of="2019-12")
    landing = tmp_path / "landing"
    write_landing(simulate(spec), landing)
    months = window_months(spec.as_of, spec.window_months)
    for month in months:  # rows for the quarantine: copies, a bad price, another month's row
        export = next((landing / month).glob("*.csv"))
        lines = export.read_text().splitlines()
        fields = lines[1].split(",")
        bad_price = ",".join([*fields[:6], "12,5x", *fields[7:]])
        dirt = [*lines[1:80:3], bad_price, lines[-1].replace(month, "2018-01", 1)]
        export.write_text("\n".join([*lines, *dirt]) + "\n")
    index = {m: i for i, m in enumerate(months)}
    monkeypatch.setattr(
        landing_ingest,
        "estimated_rows",
        lambda files: SIZES[index[Path(files[0].name).parts[0]]] * 1_000_000,
    )
    defs = definitions_for(tmp_path, landing)
    etl = ["raw_events", "clean_events", "event_quarantine", "user_features_rfm"]
    for month in months:
        materialise(defs, month, etl)
    warehouse = tmp_path / "warehouse"
    raw = Location.parse(str(warehouse / "raw" / "raw_events"))
    clean = Location.parse(str(warehouse / "clean_events"))

    # Every raw row group holds the customers of the bucket its file's footer gives, at its
    # month's count; one file per export split (here one split per month), not per bucket.
    raw_files = list_files(open_table(raw), months)
    assert len(raw_files) == len(months)
    for path, values in raw_files:
        count = file_grouping(path)
        assert count == SIZES[index[values["month"]]]
        plan = row_group_buckets(raw, path)
        parquet = pq.ParquetFile(f"{raw.path}/{path}")
        assert plan is not None and len(set(plan)) > 1
        for row_group, bucket in enumerate(plan):
            ids = parquet.read_row_group(row_group, columns=["user_id"])["user_id"]
            assert set(customer_buckets(ids, count).tolist()) == {bucket}
    # Nested counts still keep a customer in one group across the window's months.
    groups = files_by_bucket(clean, months)
    assert groups is not None and len(groups) == SIZES[0]
    keys_by_group = [
        set(
            pc.unique(
                pa.concat_tables(
                    pq.read_table(f"{clean.path}/{f.path}", columns=["user_key"]) for f in group
                )["user_key"]
            ).to_pylist()
        )
        for group in groups
    ]
    assert not keys_by_group[0] & keys_by_group[1]

    by_buckets = snapshot(warehouse, months)
    assert all(by_buckets.values())  # every table has rows, the quarantine too
    rewrite_without_buckets(raw, months)
    for month in months:
        materialise(defs, month, ["clean_events", "event_quarantine"])
    rewrite_without_buckets(clean, months)
    for month in months:
        materialise(defs, month, ["user_features_rfm"])
    assert snapshot(warehouse, months) == by_buckets
