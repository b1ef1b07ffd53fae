"""One bad month never blocks the others, and a rejected month keeps its previous version.

Issue 11, items 2, 3, 4 and 6, on real local Spark and real Delta tables through Dagster, one run
per month as backfills run them.
"""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pyarrow.compute as pc
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.demo import failure_summary, main, materialize_months
from amazing_assets.lib.delta_tables import month_row_counts, open_table, read_months
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from amazing_assets_tests.support.pipeline_run import ASSETS, definitions_for

pytestmark = [pytest.mark.slow, pytest.mark.spark]

MONTHS = ["2019-10", "2019-11", "2019-12", "2020-01"]
BAD = "2019-11"
DAY_FIRST = re.compile(rb"^(\d{4})-(\d{2})-(\d{2}) (\d{2}:\d{2}):\d{2} UTC", re.MULTILINE)


def generate(landing: Path, months: list[str]) -> None:
    for index, month in enumerate(months):
        generate_month(
            GenerationSpec(month=month, events=5_000, users=500, seed=21, month_index=index),
            landing,
        )


def export(landing: Path, month: str) -> Path:
    return landing / month / "events.csv"


def make_day_first(path: Path) -> int:
    """Rewrite every event time as ``03/11/2019 12:00`` (a spreadsheet's); return data rows."""
    data = DAY_FIRST.sub(rb"\3/\2/\1 \4", path.read_bytes())
    path.write_bytes(data)
    return data.count(b"\n") - 1


def triple_every_row(path: Path) -> None:
    """Each data line three times: two thirds are exact duplicates, under the kept-share floor."""
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *[r for r in rows for _ in range(3)]]) + "\n")


def table(warehouse: Path, name: str) -> Location:
    return table_location(Location.parse(str(warehouse)), name)


def month_state(warehouse: Path, month: str) -> dict[str, int]:
    """Rows of ``month`` in each table of the events zone."""
    return {
        name: month_row_counts(table(warehouse, name)).get(month, 0)
        for name in ("raw_events", "clean_events", "event_quarantine")
    }


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        f"{c.asset_key.to_user_string()}:{c.check_name}": c
        for c in result.get_asset_check_evaluations()
    }


def test_a_backfill_with_one_bad_month_materialises_every_other_month(tmp_path, spark):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    generate(landing, MONTHS)
    bad_rows = make_day_first(export(landing, BAD))
    defs = definitions_for(tmp_path, landing)

    results = materialize_months(MONTHS, dg.DagsterInstance.ephemeral(), defs)

    for month in MONTHS:
        if month == BAD:
            continue
        assert results[month].success, (month, failure_summary(results[month]))
        assert materialized(results[month]) == ASSETS
        found = checks(results[month])
        assert {c.partition for c in found.values()} == {f"{month}-01"}
        errors = [
            k
            for k, c in found.items()
            if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
        ]
        assert not errors, (month, errors)

    failed = results[BAD]
    assert not failed.success
    assert materialized(failed) == set()
    message = failure_summary(failed)
    # The month, the file, the top code with its count, two example lines and what to do.
    assert f"month {BAD} rejected" in message
    assert f"{BAD}/events.csv: {bad_rows:,} rows, {bad_rows:,} offending" in message
    assert f"unparseable_event_time {bad_rows:,}" in message
    examples = message.split("example lines")[1].split("The month's tables")[0]
    assert examples.count(f"[unparseable_event_time] {BAD}/events.csv: ") == 2
    # The format shows (day first), no value does (issue 24: no data in messages).
    assert (
        len(re.findall(r"99/99/9999 99:99,(view|cart|purchase|remove_from_cart),", examples)) >= 2
    )
    assert not re.search(r"[0-8]", examples.replace(f"{BAD}/events.csv", ""))
    # Identifiers masked: a long digit run may only be a shape (every digit shown as 9).
    long_runs = re.findall(r"\d{7,}", message)
    assert [run for run in long_runs if set(run) != {"9"}] == [], "identifiers must be masked"
    assert "What to do" in message and "re-run partition 2019-11-01" in message

    # Nothing of the bad file reached the month's tables; its rows are kept for inspection.
    assert month_state(warehouse, BAD) == {
        "raw_events": 0,
        "clean_events": 0,
        "event_quarantine": 0,
    }
    rejected = read_months(table(warehouse, "rejected_events"), [BAD])
    assert rejected.num_rows == bad_rows
    assert set(rejected["reason"].to_pylist()) == {"unparseable_event_time"}

    # December and January read November in their windows: they say their features are partial.
    for month in ("2019-12", "2020-01"):
        for asset in ("user_features_rfm", "cluster_profiles"):
            window = checks(results[month])[f"{asset}:complete_window"]
            assert not window.passed and window.severity == dg.AssetCheckSeverity.WARN
            assert window.metadata["missing_window_months"].value == {month: [BAD]}
        partial = {
            m.asset_key.to_user_string(): m.metadata["partial_window"].value
            for e in results[month].get_asset_materialization_events()
            for m in [e.event_specific_data.materialization]
            if "partial_window" in m.metadata
        }
        assert partial == {"user_features_rfm": True, "cluster_profiles": True}
    assert checks(results["2019-10"])["user_features_rfm:complete_window"].passed


def test_a_rejected_reingestion_leaves_every_table_of_the_month_at_its_previous_version(
    tmp_path, spark
):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    generate(landing, ["2019-10"])
    defs = definitions_for(tmp_path, landing)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_months(["2019-10"], instance, defs)["2019-10"].success
    before = month_state(warehouse, "2019-10")
    keys_before = read_months(table(warehouse, "clean_events"), ["2019-10"], columns=["user_key"])
    good = export(landing, "2019-10").read_bytes()

    # A file that cannot be parsed: rejected by raw_events before anything is written.
    make_day_first(export(landing, "2019-10"))
    result = materialize_months(["2019-10"], instance, defs)["2019-10"]
    assert not result.success and "month 2019-10 rejected" in failure_summary(result)
    assert month_state(warehouse, "2019-10") == before

    # A file that parses but mostly duplicates itself: clean_events rejects it after raw_events
    # was replaced in the same run, and raw_events is put back.
    export(landing, "2019-10").write_bytes(good)
    triple_every_row(export(landing, "2019-10"))
    raw_version = open_table(table(warehouse, "raw_events")).version()
    result = materialize_months(["2019-10"], instance, defs)["2019-10"]
    message = failure_summary(result)
    assert not result.success and "cleaning keeps" in message and "exact_duplicate" in message
    # raw_events was written, then put back: its latest materialisation says so.
    assert materialized(result) == {"raw_events"}
    latest = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_events"), asset_partitions=["2019-10-01"]),
        limit=1,
    ).records[0]
    assert latest.asset_materialization.metadata["rolled_back_to_version"].value >= 0
    assert month_state(warehouse, "2019-10") == before
    assert open_table(table(warehouse, "raw_events")).version() == raw_version + 2  # write, undo
    keys_after = read_months(table(warehouse, "clean_events"), ["2019-10"], columns=["user_key"])
    assert pc.count_distinct(keys_after["user_key"]) == pc.count_distinct(keys_before["user_key"])
    rejected = read_months(table(warehouse, "rejected_events"), ["2019-10"])
    assert set(rejected["stage"].to_pylist()) == {"clean_events"}
    assert "exact_duplicate" in set(rejected["reason"].to_pylist())


def test_the_demo_ends_a_failed_month_with_its_summary_not_a_traceback(
    tmp_path, spark, monkeypatch, capsys
):
    landing = tmp_path / "amazing" / "landing"
    generate(landing, ["2019-10", "2019-11"])
    make_day_first(export(landing, "2019-11"))
    monkeypatch.setenv("AMAZING_HOME", str(tmp_path / "amazing"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    code = main(["--first-month", "2019-10", "--months", "2", "--events", "5000", "--users", "500"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "2 month(s) run: " in out and ", 1 failed; " in out and "== 2019-10 ==" in out
    # Which assets the failed month wrote and which not, and why (issue 30).
    assert re.search(rf"== 2019-11: run FAILED, \d+ of {len(ASSETS)} assets written ==", out)
    assert re.search(r"pca_embedding +not run: an earlier asset of the month failed", out)
    assert "== 2019-11: FAILED ==" in err and "month 2019-11 rejected" in err
    assert "Traceback" not in out + err
    # Progress lines on the terminal, the whole event log in the file named at the end.
    assert "DEBUG" not in out + err
    [log_line] = [line for line in out.splitlines() if line.startswith("full event log: ")]
    log = Path(log_line.removeprefix("full event log: ").split(" (")[0])
    text = log.read_text()
    assert "== 2019-10: run " in text and "== 2019-11: run " in text
    assert "STEP_SUCCESS" in text and "STEP_FAILURE" in text
    assert "month 2019-11 rejected" in text
