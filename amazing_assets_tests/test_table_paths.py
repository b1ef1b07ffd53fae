"""A commit log entry naming a file outside its table is refused by every reader (finding 12).

Before, the project's Delta reader joined the log's path to the table root, so a crafted
``_delta_log`` entry with ``../`` made it read (and the pipeline republish) another table's
rows. The tables, files and log entries here are real; the entry is appended the way any
writer with access to the store could.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql.pandas.types import from_arrow_schema

from amazing_assets.lib.delta_source import DeltaReader
from amazing_assets.lib.delta_tables import open_table, read_months, write_arrow_months
from amazing_assets.lib.storage import Location
from amazing_assets.lib.table_paths import UnsafeTablePathError, confined_path

SECRET_ID = 987654321


def table_with_crafted_entry(tmp_path: Path, path_for: str) -> Location:
    """A real table of 2019-10, plus a commit adding a file outside it (another table's rows)."""
    location = Location.parse(str(tmp_path / "warehouse" / "segments"))
    write_arrow_months(location, pa.table({"month": ["2019-10"], "user_id": [1]}), ["2019-10"])
    outside = tmp_path / "warehouse" / "raw" / "raw_events" / "month=2019-10"
    outside.mkdir(parents=True)
    pq.write_table(pa.table({"user_id": [SECRET_ID]}), outside / "part-0.parquet")
    target = {
        "dotdot": "../raw/raw_events/month=2019-10/part-0.parquet",
        "dotdot_inside_month": "month=2019-10/../../raw/raw_events/month=2019-10/part-0.parquet",
        "percent_encoded": "%2E%2E/raw/raw_events/month%3D2019-10/part-0.parquet",
        "absolute": str(outside / "part-0.parquet"),
        "file_uri": (outside / "part-0.parquet").as_uri(),
    }[path_for]
    version = open_table(location).version() + 1
    add = {
        "add": {
            "path": target,
            "partitionValues": {"month": "2019-10"},
            "size": (outside / "part-0.parquet").stat().st_size,
            "modificationTime": int(time.time() * 1000),
            "dataChange": True,
            "stats": json.dumps({"numRecords": 1}),
        }
    }
    log = Path(location.path) / "_delta_log" / f"{version:020d}.json"
    log.write_text(json.dumps(add) + "\n")
    return location


FORMS = ["dotdot", "dotdot_inside_month", "percent_encoded", "absolute", "file_uri"]
SCHEMA = pa.schema([("month", pa.string()), ("user_id", pa.int64())])


@pytest.mark.parametrize("form", FORMS)
def test_the_projects_reader_refuses_a_path_outside_the_table(tmp_path: Path, form: str) -> None:
    location = table_with_crafted_entry(tmp_path, form)
    reader = DeltaReader(location, ["2019-10"], from_arrow_schema(SCHEMA))
    read: list[int] = []

    def read_everything() -> None:
        for partition in reader.partitions():
            for batch in reader.read(partition):  # type: ignore[arg-type]
                read.extend(batch.column("user_id").to_pylist())

    with pytest.raises(UnsafeTablePathError, match="commit log") as refused:
        read_everything()
    assert SECRET_ID not in read
    assert "raw_events" not in str(refused.value)  # the message does not repeat the path


@pytest.mark.parametrize("form", FORMS)
def test_the_driver_side_reader_refuses_a_path_outside_the_table(tmp_path: Path, form) -> None:
    location = table_with_crafted_entry(tmp_path, form)
    with pytest.raises(UnsafeTablePathError):
        read_months(location, ["2019-10"])


@pytest.mark.spark
def test_a_spark_read_of_a_tampered_table_fails(tmp_path: Path, spark) -> None:
    from amazing_assets.lib.io_managers import read_spark

    location = table_with_crafted_entry(tmp_path, "dotdot")
    with pytest.raises(Exception, match="commit log") as refused:
        read_spark(spark, location, ["2019-10"]).collect()
    assert str(SECRET_ID) not in str(refused.value)


segment = st.sampled_from(["..", ".", "a", "month=2019-10", "%2e%2e", "%2E.", "", "b.parquet"])


@settings(max_examples=300, deadline=None)
@given(st.lists(segment, min_size=1, max_size=6), st.booleans())
def test_a_confined_path_never_leaves_the_root(parts: list[str], absolute: bool) -> None:
    """Whatever the segments, an accepted path normalises to a path under the root."""
    path = ("/" if absolute else "") + "/".join(parts)
    try:
        normal = confined_path(path, "t")
    except UnsafeTablePathError:
        return
    root = Path("/root/table")
    assert (root / normal).resolve().is_relative_to(root)
    assert not absolute


OUTSIDE_SESSION = "5c1f3e2a-9d4b-4f8e-a7c6-0b1d2e3f4a5b"
OUTSIDE_BRAND = "brand-from-outside-the-table"


def raw_events_with_crafted_entry(tmp_path: Path) -> Location:
    """A real ``raw_events`` of 2019-10 and a commit adding, by ``../``, a file of another
    table whose row names customer ``SECRET_ID`` (line, id, session and a brand)."""
    from amazing_assets.defs.privacy.erasure import RAW_EVENTS
    from amazing_assets.lib.tables import table_location

    warehouse = Location.parse(str(tmp_path / "warehouse"))
    location = table_location(warehouse, RAW_EVENTS)
    inside = {"_raw_line": ["a,b,1"], "user_id": [1], "user_session": ["s1"], "brand": ["acme"]}
    write_arrow_months(location, pa.table({"month": ["2019-10"], **inside}), ["2019-10"])
    outside = tmp_path / "elsewhere" / "month=2019-10"
    outside.mkdir(parents=True)
    row = {
        "_raw_line": [f"2019-10-01 00:00:00 UTC,view,1,2,,acme,1.0,{SECRET_ID},{OUTSIDE_SESSION}"],
        "user_id": [SECRET_ID],
        "user_session": [OUTSIDE_SESSION],
        "brand": [OUTSIDE_BRAND],
    }
    pq.write_table(pa.table(row), outside / "part-0.parquet")
    depth = "../" * len(Path(location.path).relative_to(tmp_path).parts)
    add = {
        "add": {
            "path": f"{depth}elsewhere/month=2019-10/part-0.parquet",
            "partitionValues": {"month": "2019-10"},
            "size": (outside / "part-0.parquet").stat().st_size,
            "modificationTime": int(time.time() * 1000),
            "dataChange": True,
            "stats": json.dumps({"numRecords": 1}),
        }
    }
    version = open_table(location).version() + 1
    log = Path(location.path) / "_delta_log" / f"{version:020d}.json"
    log.write_text(json.dumps(add) + "\n")
    return warehouse


def _masked_copies(warehouse: Location) -> object:
    from amazing_assets.defs.privacy.erasure import masked_copies

    return masked_copies(warehouse, [SECRET_ID], [OUTSIDE_SESSION])


def _lines_of_customers(warehouse: Location) -> object:
    from amazing_assets.defs.privacy.erasure import RAW_EVENTS, lines_of_customers
    from amazing_assets.lib.tables import table_location

    location = table_location(warehouse, RAW_EVENTS)
    return lines_of_customers(location, {"_raw_line"}, [SECRET_ID], [OUTSIDE_SESSION])


def _customer_sessions(warehouse: Location) -> object:
    from amazing_assets.defs.privacy.erasure import customer_sessions

    return customer_sessions(warehouse, [SECRET_ID])


def _stored_preview(warehouse: Location) -> object:
    from amazing_assets.defs.privacy.erasure import RAW_EVENTS
    from amazing_assets.lib.asset_options import stored_preview
    from amazing_assets.lib.tables import table_location

    return stored_preview(table_location(warehouse, RAW_EVENTS), ["2019-10"]).value


@pytest.mark.parametrize(
    "read", [_masked_copies, _lines_of_customers, _customer_sessions, _stored_preview]
)
def test_the_erasure_and_preview_readers_refuse_a_path_outside_the_table(
    tmp_path: Path, read
) -> None:
    """The erasure's reads of the raw zone and the metadata preview opened the table with a bare
    ``to_pyarrow_dataset()``, so nothing of the project checked the paths: they relied on how
    the installed deltalake resolves them (1.6 fails to find the file, with an error that
    repeats the crafted path). They now refuse before any file is opened, like every reader."""
    warehouse = raw_events_with_crafted_entry(tmp_path)
    with pytest.raises(UnsafeTablePathError, match="commit log") as refused:
        read(warehouse)
    assert "elsewhere" not in str(refused.value)  # the message does not repeat the path
