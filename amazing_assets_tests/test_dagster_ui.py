"""The Dagster UI as data engineers use it: a three-month backfill launched from the browser.

``dagster-webserver`` and ``dagster-daemon`` run on the project's ``workspace.yaml`` with the
embedded instance settings ``make ui`` installs; Debian's Chromium clicks *Materialize all*, picks
the months and launches the backfill; the daemon runs it and evaluates the landing sensor. The
middle month's export is unusable: it fails alone, and the other months materialise.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.lib.partitions import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from amazing_assets_tests.conftest import free_port
from amazing_assets_tests.support.browser import ConsoleErrors, chromium, screenshot, start_server

# The one test allowed past the suite-wide timeout: three monthly runs queued one at a time,
# launched from the UI (~250 s on a loaded 2-core machine).
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INSTANCE = REPO / "deploy" / "dagster" / "dagster.local.yaml"
MONTHS = ("2019-10", "2019-11", "2019-12")
BAD = "2019-11"


@pytest.fixture
def deployment(tmp_path):
    landing = tmp_path / "landing"
    for index, month in enumerate(MONTHS):
        generate_month(
            GenerationSpec(month=month, events=8_000, users=800, seed=11, month_index=index),
            landing,
        )
    bad = landing / BAD / "events.csv"  # every event time day-first: a spreadsheet's re-save
    bad.write_bytes(
        re.sub(rb"^(\d{4})-(\d{2})-(\d{2}) ", rb"\3/\2/\1 ", bad.read_bytes(), flags=re.M)
    )
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE, home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "AMAZING_HOME": str(tmp_path / "amazing"),
        "AMAZING_LANDING": str(landing),
        "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
    }
    port = free_port()
    webserver = start_server(
        [
            str(BIN / "dagster-webserver"),
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        f"http://127.0.0.1:{port}",
        tmp_path / "webserver.log",
        env,
        timeout=180,
        ready_url=f"http://127.0.0.1:{port}/server_info",
    )
    daemon = []

    def start_daemon():
        daemon.append(
            start_server(
                [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
                webserver.url,
                tmp_path / "daemon.log",
                env,
            )
        )

    try:
        yield webserver, start_daemon, home
    finally:
        for server in [*daemon, webserver]:
            server.stop()


def dismiss_first_visit_prompt(page) -> None:
    """A new instance's UI asks once, a moment after loading, to join a newsletter."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=10_000)
    except PlaywrightTimeout:
        return
    skip.click()
    skip.wait_for(state="detached")


def backfill_status(page_text: str) -> str:
    """The value under the "Status" heading of a backfill's page."""
    lines = [line.strip() for line in page_text.splitlines()]
    return lines[lines.index("Status") + 1] if "Status" in lines else ""


def month_of_run(run: dg.DagsterRun) -> str:
    """The one month a run covers: a partition tag, or a backfill's range of one month."""
    start = run.tags.get(RANGE_START_TAG)
    if start is not None:
        assert run.tags.get(RANGE_END_TAG) == start, run.tags  # one month per run
    return (run.tags.get(PARTITION_TAG) or start or "")[:7]


def sensor_ticks(instance: dg.DagsterInstance) -> list:
    states = [s for s in instance.all_instigator_state() if s.instigator_name == "landing_sensor"]
    if not states:
        return []
    return list(instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id))


def test_a_backfill_from_the_ui_runs_each_month_alone_and_a_bad_month_fails_alone(
    deployment, monkeypatch
):
    webserver, start_daemon, home = deployment
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.set_default_timeout(60_000)
        errors = ConsoleErrors().attach(page)
        page.goto(f"{webserver.url}/asset-groups")
        # "Materialize all (N)…": N counts the executable assets (rejected_events,
        # erasure_audit and erased_customers are written by other steps, not launched here).
        materialize_all = page.locator("button", has_text="Materialize all").first
        materialize_all.wait_for()
        dismiss_first_visit_prompt(page)
        materialize_all.click()
        dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
        dialog.get_by_text("Show all partitions").click()
        partitions = dialog.locator("input[type=text]").first
        partitions.fill("[2019-10-01...2019-12-01]")
        partitions.press("Enter")
        dialog.get_by_text("3 partitions").wait_for()
        screenshot(page, "dagster-launch-backfill")
        dialog.get_by_role("button", name="Launch backfill").click()
        page.get_by_text("Created backfill").wait_for()
        page.get_by_text("View", exact=True).first.click()  # the toast's link to the backfill
        page.get_by_text("Partition selection").wait_for()
        backfill_url = page.url

        # The daemon starts after the backfill exists: its sensor must not ask for the same months.
        start_daemon()
        deadline = time.time() + 900
        status = text = ""
        while time.time() < deadline:
            page.goto(backfill_url)
            page.get_by_text("Partition selection").wait_for()
            text = page.locator("body").inner_text()
            status = backfill_status(text)
            if status not in ("", "In progress", "Requested"):
                break
            page.wait_for_timeout(10_000)
        screenshot(page, "dagster-backfill-done")
        assert status not in ("Succeeded", "", "In progress", "Requested"), text[:1500]
        assert "2019-10-01...2019-12-01" in text

        # Per asset: two months succeeded, one failed (the backfill page's table).
        # Columns: targeted, in progress, succeeded, failed.
        for asset in ("raw_events", "cluster_profiles"):
            pattern = rf"\b{asset}\s+(?:\d+% completed\s+)?3\s+0\s+2\s+1\b"
            assert re.search(pattern, text), text[:3000]

        page.goto(f"{webserver.url}/assets/clean_events?view=checks")
        page.get_by_text("accounting_identity").first.wait_for()
        screenshot(page, "dagster-asset-checks")
        assert [e for e in errors.take() if "favicon" not in e] == []

    instance = dg.DagsterInstance.get()  # DAGSTER_HOME=home
    runs = {month_of_run(r): r for r in instance.get_runs()}
    assert set(runs) == set(MONTHS)  # one run per month, and the sensor asked for nothing
    assert all(r.tags.get("dagster/backfill") for r in runs.values())
    assert {m: r.status for m, r in runs.items()} == {
        "2019-10": dg.DagsterRunStatus.SUCCESS,
        BAD: dg.DagsterRunStatus.FAILURE,
        "2019-12": dg.DagsterRunStatus.SUCCESS,
    }
    # Oldest month first: December's features read October and November from the warehouse.
    started = {m: instance.get_run_record_by_id(r.run_id).start_time for m, r in runs.items()}
    assert started["2019-10"] < started[BAD] < started["2019-12"]
    failure = next(
        e for e in instance.all_logs(runs[BAD].run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    )
    assert f"month {BAD} rejected" in failure.dagster_event.event_specific_data.error.message
    for month, run in runs.items():
        checks = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
        ]
        if month == BAD:
            assert checks == []  # rejected before anything was stored or checked
            continue
        # Each month's results are tied to its partition, with its own figures.
        assert checks and {c.partition for c in checks} == {f"{month}-01"}
        identity = next(c for c in checks if c.check_name == "accounting_identity")
        assert identity.passed and list(identity.metadata["raw_rows"].value) == [month]
    ticks = sensor_ticks(instance)
    assert ticks, "the daemon never evaluated landing_sensor"
    reasons = " ".join(t.skip_reason or "" for t in ticks)
    assert "already being materialised" in reasons or "no exports to run" in reasons
