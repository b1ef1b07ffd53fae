"""Retention settings applied: old table versions and ingested exports expire, nothing else."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pytest

from amazing_assets.defs.privacy.retention import expire_landing, vacuum_history
from amazing_assets.lib.delta_tables import open_table, read_months, write_arrow_months
from amazing_assets.lib.settings import SettingsError, load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location


def month_table(month: str, value: int) -> pa.Table:
    return pa.table({"x": [value], "month": [month]})


def test_versions_past_the_retention_are_removed_and_the_latest_kept(tmp_path):
    warehouse = Location.parse(str(tmp_path / "warehouse"))
    table = warehouse.child("t")
    write_arrow_months(table, month_table("2019-10", 1), ["2019-10"])
    write_arrow_months(table, month_table("2019-10", 2), ["2019-10"])
    assert read_months(table, version=0).column("x").to_pylist() == [1]
    removed = vacuum_history(warehouse, history_days=0)
    assert removed == {"t": 1}
    assert read_months(table).column("x").to_pylist() == [2]
    with pytest.raises(Exception):  # noqa: B017, PT011 - the old version is gone
        read_months(table, version=0)
    assert vacuum_history(warehouse, history_days=7) == {"t": 0}
    assert open_table(table).version() >= 1


def test_only_old_exports_of_ingested_months_expire(tmp_path):
    landing, warehouse = tmp_path / "landing", Location.parse(str(tmp_path / "warehouse"))
    write_arrow_months(
        table_location(warehouse, "raw_events"), month_table("2019-10", 1), ["2019-10"]
    )
    old = time.time() - 10 * 86_400
    for month in ("2019-10", "2019-11"):
        (landing / month).mkdir(parents=True)
        for name, mtime in (("old.csv", old), ("new.csv", time.time())):
            path = landing / month / name
            path.write_text("x")
            os.utime(path, (mtime, mtime))
    deleted = expire_landing(Location.parse(str(landing)), warehouse, landing_days=7)
    assert deleted == ["2019-10/old.csv"]  # November was never ingested: its exports stay
    assert sorted(p.name for p in (landing / "2019-11").iterdir()) == ["new.csv", "old.csv"]


def test_retention_settings_are_read_and_checked():
    settings = load_settings(
        {"AMAZING_HISTORY_RETENTION_DAYS": "3", "AMAZING_LANDING_RETENTION_DAYS": "90"}
    )
    assert (settings.history_retention_days, settings.landing_retention_days) == (3.0, 90.0)
    assert load_settings({}).landing_retention_days is None
    with pytest.raises(SettingsError, match="AMAZING_HISTORY_RETENTION_DAYS"):
        load_settings({"AMAZING_HISTORY_RETENTION_DAYS": "a week"})


def test_an_erasure_request_file_starts_one_run_naming_the_file_only(tmp_path):
    import dagster as dg

    from amazing_assets.defs.privacy.jobs import erasure_request_sensor
    from amazing_assets.lib.warehouse import WarehouseResource

    requests = tmp_path / "landing" / "_erasure"
    requests.mkdir(parents=True)
    (requests / "req-1.json").write_text('{"user_ids": [541312140]}')
    warehouse = WarehouseResource(
        warehouse_uri=str(tmp_path / "warehouse"), landing_uri=str(tmp_path / "landing")
    )
    result = erasure_request_sensor(dg.build_sensor_context(resources={"warehouse": warehouse}))
    [request] = result
    config = request.run_config["ops"]["erase_requested_customers"]["config"]
    assert config == {"request_file": "req-1.json"} and "541312140" not in str(request)
