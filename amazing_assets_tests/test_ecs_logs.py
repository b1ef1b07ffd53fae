"""A real materialisation logged with the deployed ``dagster.yaml``: ECS JSON, no raw id."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pyarrow.csv as pacsv
import pytest
import yaml

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets_tests.conftest import free_port
from amazing_assets_tests.support.logstash_endpoint import LogEndpoint
from amazing_assets_tests.support.pipeline_run import ASSETS, definitions_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = yaml.safe_load((ROOT / "deploy" / "dagster" / "dagster.yaml").read_text())
TOKENS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{9,10}")


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, spark):
    """One month through the whole chain, its logs shipped to a local Logstash-like endpoint."""
    tmp = tmp_path_factory.mktemp("ecs")
    landing = tmp / "landing"
    generate_month(GenerationSpec(month="2019-10", events=8_000, users=800, seed=3), landing)
    endpoint = LogEndpoint(free_port()).start()
    patch = pytest.MonkeyPatch()
    patch.setenv("AMAZING_LOGSTASH_URL", endpoint.url)
    patch.setenv("AMAZING_LOG_QUEUE", str(tmp / "queue.db"))
    patch.setenv("AMAZING_LOG_FLUSH_SECONDS", "0.5")
    try:
        with dg.instance_for_test(overrides={"python_logs": DEPLOYED["python_logs"]}) as instance:
            result = (
                definitions_for(tmp, landing)
                .resolve_job_def("monthly_segments")
                .execute_in_process(instance=instance, partition_key="2019-10-01")
            )
            assert result.success
            stored = instance.all_logs(result.run_id)
        # Shipping is asynchronous: wait until most of the run's records arrived and then no new
        # one for 4 polls in a row (late records of the run's teardown), not a fixed sleep.
        deadline, seen, quiet = time.time() + 60, -1, 0
        while time.time() < deadline and quiet < 4:
            time.sleep(0.5)
            count = len(endpoint.received())
            quiet = quiet + 1 if count == seen and count >= len(stored) - 30 else 0
            seen = count
        records = [r for r in endpoint.received() if r.get("dagster", {}).get("run_id")]
    finally:
        endpoint.stop()
        patch.undo()
    return result, stored, records, landing


# Written by the instance when the run is created, before the run logs anything itself.
AT_RUN_CREATION = {"ASSET_MATERIALIZATION_PLANNED", "ASSET_CHECK_EVALUATION_PLANNED"}


def test_every_record_of_the_run_arrives_as_ecs_json_with_its_context(shipped):
    result, stored, records, _ = shipped
    ours = [r for r in records if r["dagster"]["run_id"] == result.run_id]
    expected = Counter(
        e.dagster_event.event_type_value if e.dagster_event else "log"
        for e in stored
        if not (e.dagster_event and e.dagster_event.event_type_value in AT_RUN_CREATION)
    )
    arrived = Counter(r["dagster"].get("event_type", "log") for r in ours)
    assert sum(expected.values()) > 100
    missing = {k: n - arrived[k] for k, n in expected.items() if arrived[k] < n}
    assert missing == {}  # every record of the run arrived, at least once
    for record in ours:
        assert record["ecs.version"] and record["@timestamp"].endswith("Z")
        assert record["log.level"] in {"debug", "info", "warning", "error", "critical"}
        assert record["service"]["name"] == "amazing-segments"
        assert record["dagster"]["job"] == "monthly_segments"
        assert record["dagster"]["partition"] == "2019-10-01"
        if "step" in record["dagster"]:
            assert record["dagster"]["asset_key"] in ASSETS, record
    steps = {r["dagster"]["asset_key"] for r in ours if "step" in r["dagster"]}
    assert steps == ASSETS


def test_records_carry_the_metrics_the_assets_report(shipped):
    _, _, records, _ = shipped
    by_type: dict[str, list[dict]] = {}
    for record in records:
        by_type.setdefault(record["dagster"].get("event_type", "log"), []).append(record)
    materialized = {
        r["dagster"]["asset_key"]: r["amazing"]["metrics"] for r in by_type["ASSET_MATERIALIZATION"]
    }
    assert materialized["clean_events"]["rows_in"] > 0
    assert set(materialized["clean_events"]["dropped_by_reason"]) >= {"exact_duplicate"}
    assert materialized["user_features_rfm"]["users"] > 0
    assert all(r["event"]["duration"] > 0 for r in by_type["STEP_SUCCESS"])
    checks = by_type["ASSET_CHECK_EVALUATION"]
    assert {c["dagster"]["check"]["name"] for c in checks} >= {"accounting_identity"}
    assert all(isinstance(c["dagster"]["check"]["passed"], bool) for c in checks)
    assert any(r["log"]["logger"].startswith("amazing_assets") for r in records)


def test_no_raw_user_or_session_id_in_any_record(shipped):
    _, _, records, landing = shipped
    export = pacsv.read_csv(landing / "2019-10" / "events.csv")
    raw_ids = {str(v) for v in export["user_id"].to_pylist()} | set(
        export["user_session"].to_pylist()
    )
    found = {token for r in records for token in TOKENS.findall(json.dumps(r))}
    assert not found & raw_ids


# Issue 24, finding 3: every job and sensor of the location logs through the redaction, the
# default console logger included (compose ships the containers' output as it is).
RAW_ID = "541312140"


def test_every_job_logs_to_the_redacting_console_and_no_output_holds_a_raw_id(
    tmp_path, capfd, monkeypatch
):
    monkeypatch.setenv("AMAZING_LOG_QUEUE", str(tmp_path / "queue.db"))
    defs = definitions_for(tmp_path, tmp_path / "landing")
    # A request file named after a customer: a failure that quoted it would leak the id.
    with dg.instance_for_test(overrides={"python_logs": DEPLOYED["python_logs"]}) as instance:
        result = defs.resolve_job_def("erase_customers_job").execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={
                "ops": {"erase_requested_customers": {"config": {"request_file": f"{RAW_ID}.json"}}}
            },
        )
    assert not result.success
    out, err = capfd.readouterr()
    # The failure was printed; it names the config field, never the value (issue 24, #1).
    assert "request_file" in out + err
    assert RAW_ID not in out and RAW_ID not in err
    from amazing_assets.lib.observability.redacting import redacting_console_logger

    for name in ("monthly_segments", "erase_customers_job", "housekeeping_job"):
        assert defs.resolve_job_def(name).loggers["console"] is redacting_console_logger, name


def test_sensor_messages_are_redacted(tmp_path):
    from amazing_assets.lib.warehouse import WarehouseResource

    folder = tmp_path / "landing" / f"{RAW_ID}-export"
    folder.mkdir(parents=True)
    (folder / "events.csv").write_text("x")
    defs = definitions_for(tmp_path, tmp_path / "landing")
    sensor = defs.resolve_sensor_def("landing_sensor")
    warehouse = WarehouseResource(
        warehouse_uri=str(tmp_path / "warehouse"), landing_uri=str(tmp_path / "landing")
    )
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"warehouse": warehouse})
        result = sensor.evaluate_tick(context)
    assert result.skip_message and "not in a YYYY-MM" in result.skip_message
    assert RAW_ID not in result.skip_message
