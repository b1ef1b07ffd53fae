"""The Delta data source: exact month replacement, time travel, failed writes leave no trace."""

import pytest
from pyspark.sql import functions as F

from amazing_assets.lib.delta_tables import month_row_counts, open_table, read_months
from amazing_assets.lib.io_managers import read_spark, write_months
from amazing_assets.lib.storage import LOCATION_OPTION, Location
from amazing_assets_tests.support.delta_files import files_in_log, files_on_store


def frame(spark, months: dict[str, int], tag: str = "a"):
    rows = [(m, i, f"{tag}{i}") for m, n in months.items() for i in range(n)]
    return spark.createDataFrame(rows, "month string, id long, label string")


def test_overwrite_replaces_only_the_months_written(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(
        frame(spark, {"2019-10": 5, "2019-11": 3}), location, ["2019-10", "2019-11"], "first"
    )
    write_months(frame(spark, {"2019-11": 4}, tag="b"), location, ["2019-11"], "second")
    assert month_row_counts(location) == {"2019-10": 5, "2019-11": 4}
    labels = {r["label"] for r in read_spark(spark, location, ["2019-11"]).collect()}
    assert labels == {"b0", "b1", "b2", "b3"}
    # The previous version is still readable (time travel).
    assert month_row_counts(location, version=0) == {"2019-10": 5, "2019-11": 3}
    assert read_months(location, ["2019-11"], version=0).num_rows == 3


def test_a_narrow_read_returns_only_the_named_columns(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 5, "2019-11": 3}), location, ["2019-10", "2019-11"], "w")
    narrow = read_spark(spark, location, ["2019-11"], columns=["label", "month"])
    assert narrow.columns == ["month", "label"]  # table order
    assert sorted(tuple(r) for r in narrow.collect()) == [("2019-11", f"a{i}") for i in range(3)]
    assert read_spark(spark, location, ["2019-10"], columns=["id"]).columns == ["id"]
    with pytest.raises(Exception, match="no column"):
        read_spark(spark, location, ["2019-10"], columns=["nope"]).collect()


def test_rewriting_a_month_with_no_rows_empties_it(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 5}), location, ["2019-10"], "first")
    write_months(frame(spark, {"2019-10": 1}).where("id < 0"), location, ["2019-10"], "empty")
    assert month_row_counts(location) == {}


def test_rows_outside_the_replaced_months_are_refused(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 2}), location, ["2019-10"], "first")
    with pytest.raises(Exception, match="outside the months being replaced"):
        write_months(frame(spark, {"2019-11": 2}), location, ["2019-10"], "wrong month")
    assert month_row_counts(location) == {"2019-10": 2}
    assert files_on_store(location) == files_in_log(location)


def test_a_schema_change_is_refused_at_commit(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 2}), location, ["2019-10"], "first")
    other = frame(spark, {"2019-10": 2}).withColumn("id", F.col("id").cast("string"))
    with pytest.raises(Exception, match="schema of the write does not match"):
        write_months(other, location, ["2019-10"], "wrong schema")
    assert open_table(location).version() == 0
    assert files_on_store(location) == files_in_log(location)


def test_a_failure_in_the_middle_of_a_write_leaves_the_previous_version_intact(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 100}), location, ["2019-10"], "good")
    before = sorted(r["label"] for r in read_spark(spark, location, ["2019-10"]).collect())

    @F.udf("long")
    def explode_late(i):
        if i == 250:  # after several files of this task were already written
            raise RuntimeError("injected failure")
        return i

    failing = (
        frame(spark, {"2019-10": 300}, tag="new")
        .repartition(2)
        .withColumn("id", explode_late("id"))
    )
    with pytest.raises(Exception, match="injected failure"):
        (
            failing.write.format("amazing_delta")
            .mode("overwrite")
            .option(LOCATION_OPTION, location.to_option())
            .option("replace_months", "2019-10")
            .option("rows_per_file", "20")
            .save()
        )
    after = sorted(r["label"] for r in read_spark(spark, location, ["2019-10"]).collect())
    assert after == before
    assert open_table(location).version() == 0
    # A task still uploading when Spark aborted the job can leave a file behind (never part of
    # any version); abort sweeps what it can, and the next write of the month removes the rest.
    write_months(frame(spark, {"2019-10": 7}), location, ["2019-10"], "next")
    assert files_on_store(location) == files_in_log(location)  # no orphan files left behind


def test_appends_are_refused(spark, tmp_path):
    location = Location.parse(str(tmp_path / "t"))
    with pytest.raises(Exception, match="only supports mode"):
        (
            frame(spark, {"2019-10": 1})
            .write.format("amazing_delta")
            .mode("append")
            .option(LOCATION_OPTION, location.to_option())
            .option("replace_months", "2019-10")
            .save()
        )


def test_sweep_removes_only_files_of_writes_that_never_landed(spark, tmp_path):
    from amazing_assets.lib.delta_source import sweep_unlanded_files

    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 3}), location, ["2019-10"], "v0")
    write_months(
        frame(spark, {"2019-10": 2}), location, ["2019-10"], "v1"
    )  # v0's files: time travel
    stray = tmp_path / "t" / "month=2019-10" / "part-deadbeef0000-task-0000.parquet"
    stray.write_bytes(b"left by a killed task")
    assert sweep_unlanded_files(location, ["2019-10"]) == []  # could be a live write's
    removed = sweep_unlanded_files(location, ["2019-10"], older_than_s=0)
    assert removed == [str(stray)]
    assert files_on_store(location) == files_in_log(location)
    assert month_row_counts(location, version=0) == {"2019-10": 3}


def test_a_write_never_deletes_the_files_of_another_live_write_of_the_month(spark, tmp_path):
    """Before: every commit and abort deleted all uncommitted files of its months, so a second
    run writing the same month lost its files and a version could point at a deleted file."""
    location = Location.parse(str(tmp_path / "t"))
    write_months(frame(spark, {"2019-10": 3}), location, ["2019-10"], "v0")
    live = tmp_path / "t" / "month=2019-10" / "part-0123456789ab-task-0000.parquet"
    live.write_bytes(b"being written by another run")
    write_months(frame(spark, {"2019-10": 2}), location, ["2019-10"], "v1")  # commit + sweep
    with pytest.raises(Exception, match="outside the months being replaced"):  # abort + sweep
        write_months(frame(spark, {"2019-11": 2}), location, ["2019-10"], "failed")
    assert live.exists()
