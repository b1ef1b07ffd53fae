"""The verdict and the alerts on real tables: facts read by Spark and Delta, a real webhook."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from amazing_assets.defs.monitoring.assets import month_verdict, segment_alerts
from amazing_assets.defs.monitoring.facts import month_facts
from amazing_assets.defs.monitoring.verdict import CAUTION, COMPARABLE, FIRST_MONTH
from amazing_assets.lib.delta_tables import read_months, write_arrow_months
from amazing_assets.lib.partitions import partition_key_of
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from amazing_assets.lib.warehouse import WarehouseResource
from amazing_assets.resources import build_resources
from amazing_assets_tests.support.webhook_receiver import webhook_receiver


def planted_month(month: str, days: int, category_offset: int, events_per_day: int = 50):
    start = datetime.fromisoformat(f"{month}-01").replace(tzinfo=UTC)
    times = [
        start + timedelta(days=d, minutes=m) for d in range(days) for m in range(events_per_day)
    ]
    n = len(times)
    return pa.table(
        {
            "event_time": pa.array(times, pa.timestamp("us", tz="UTC")),
            "product_id": pa.array([i % 40 for i in range(n)], pa.int64()),
            "category_id": pa.array([i % 40 + category_offset for i in range(n)], pa.int64()),
            "user_key": pa.array([f"k{i % 300}" for i in range(n)]),
            "month": pa.array([month] * n),
        }
    )


def planted_warehouse(
    root: Path, months: dict[str, pa.Table], bots: dict[str, int]
) -> WarehouseResource:
    warehouse = WarehouseResource(warehouse_uri=str(root), landing_uri=str(root / "landing"))
    location = Location.parse(str(root))
    for month, clean in months.items():
        write_arrow_months(table_location(location, "clean_events"), clean, [month])
        raw = clean.select(["event_time", "month"])
        extra = pa.table(
            {"event_time": raw["event_time"][: bots[month]], "month": raw["month"][: bots[month]]}
        )
        write_arrow_months(
            table_location(location, "raw_events"), pa.concat_tables([raw, extra]), [month]
        )
        quarantine = pa.table(
            {"reason": ["bot_user"] * bots[month], "month": [month] * bots[month]}
        )
        write_arrow_months(table_location(location, "event_quarantine"), quarantine, [month])
    return warehouse


def test_the_facts_of_a_cut_remapped_bot_month_are_read_from_the_tables(spark, tmp_path):
    warehouse = planted_warehouse(
        tmp_path / "warehouse",
        {"2019-11": planted_month("2019-11", 30, 0), "2019-12": planted_month("2019-12", 12, 500)},
        bots={"2019-11": 15, "2019-12": 600},
    )
    [december], november = month_facts(spark, warehouse, ["2019-12"], window=2)
    assert november is not None and november.days_with_events == 30
    assert (december.days_with_events, december.events, december.raw_rows) == (12, 600, 1200)
    assert december.bot_rows == 600 and december.category_remap == 1.0
    assert (december.window_months_with_events, december.window_months) == (2, 2)
    [october], before = month_facts(spark, warehouse, ["2019-10"], window=2)
    assert before is None and october.events == 0


@pytest.fixture
def copied(backfilled, tmp_path):
    """The session's two-month warehouse, copied so this module's runs leave it as it was."""
    shutil.copytree(backfilled.warehouse, tmp_path / "warehouse")
    return backfilled, tmp_path / "warehouse"


def test_the_monthly_run_records_a_first_month_and_a_window_still_filling(backfilled):
    location = Location.parse(str(backfilled.warehouse))
    table = read_months(
        table_location(location, "month_verdict"), ["2019-10", "2019-11"]
    ).to_pandas()
    verdicts = table.groupby("month")["verdict"].first().to_dict()
    assert verdicts == {"2019-10": FIRST_MONTH, "2019-11": CAUTION}
    november = table[table["month"] == "2019-11"].set_index("aspect")
    assert november.loc["window_months", "status"] == "warn"  # 2 of 3 months: filling up
    assert november.loc["days_covered", "status"] == "ok"
    alerts = read_months(table_location(location, "segment_alerts"), ["2019-11"]).to_pandas()
    assert set(alerts["status"]) <= {"held"}  # nothing is sent while the window fills


def run_monitoring(backfilled, warehouse: Path, alert_file: Path | None = None):
    """month_verdict and segment_alerts of 2019-11 with a one-month window (complete at once)
    and thresholds that make every segment's move an alert."""
    settings = load_settings(
        {
            "AMAZING_HOME": str(backfilled.home),
            "AMAZING_LANDING": str(backfilled.landing),
            "AMAZING_WAREHOUSE": str(warehouse),
            "AMAZING_FEATURE_WINDOW_MONTHS": "1",
            "AMAZING_APP_URL": "http://marketing.example/app",
            **({"AMAZING_ALERT_FILE": str(alert_file)} if alert_file else {}),
        }
    )
    resources = build_resources(settings)
    resources["alerts"] = resources["alerts"].model_copy(
        update={"min_relative_change": 1e-9, "min_customers": 0}
    )
    return dg.materialize(
        [month_verdict, segment_alerts],
        partition_key=partition_key_of("2019-11"),
        resources=resources,
    )


def test_a_comparable_month_sends_its_moves_to_the_webhook_and_the_file(
    copied, monkeypatch, tmp_path
):
    backfilled, warehouse = copied
    alert_file = tmp_path / "alerts.jsonl"
    with webhook_receiver() as (url, receiver):
        monkeypatch.setenv("AMAZING_ALERT_WEBHOOK", url)
        result = run_monitoring(backfilled, warehouse, alert_file)
    assert result.success
    verdict = result.output_for_node("month_verdict")
    assert set(verdict["verdict"]) == {COMPARABLE}, verdict
    sent = result.output_for_node("segment_alerts")
    assert len(sent) and set(sent["status"]) == {"sent"}
    [payload] = [post["json"] for post in receiver.posts]
    assert "http://marketing.example/app?month=2019-11&page=profiles" in payload["text"]
    assert [json.loads(line) for line in alert_file.read_text().splitlines()] == [payload]
    for name in sent["segment_fr"]:
        assert name in payload["text"]  # French by default
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["alerts_delivered"].passed and checks["comparable_to_last_month"].passed


def test_an_unreachable_webhook_is_a_failed_check_not_a_lost_run(copied, monkeypatch):
    backfilled, warehouse = copied
    monkeypatch.setenv("AMAZING_ALERT_WEBHOOK", "http://127.0.0.1:9/hooks/SECRET-TOKEN")
    result = run_monitoring(backfilled, warehouse)
    assert result.success
    assert set(result.output_for_node("segment_alerts")["status"]) == {"not_sent"}
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["alerts_delivered"]
    assert not check.passed
    assert "SECRET-TOKEN" not in json.dumps(check.metadata["failures"].value)
