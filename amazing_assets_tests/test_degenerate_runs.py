"""Degenerate months through the real pipeline (Spark, Delta, scikit-learn, Dagster), one run each.

Two months that failed before issue 30: a month without purchase events (a tag outage: 30 000
views of 2 719 customers; ``pca_embedding`` failed three times on ``Binarizer(threshold=inf)``)
and a real 22-row November excerpt whose ids went through Excel (19 customers; ``pca_embedding``
failed, retried twice, "too few to segment"). Each now ends in success: the first with browsing
segments and no value model, the second "not segmented" with why and what is needed; no step is
retried; the report says which assets were written; the app's data layer and pages open on it.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from amazing_assets.demo import materialize_months
from amazing_assets.lib.delta_tables import read_months
from amazing_assets.lib.storage import Location
from amazing_assets_tests.conftest import REAL_DATA, real_file
from amazing_assets_tests.support.pipeline_run import ASSETS, definitions_for

pytestmark = pytest.mark.slow
HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
# shared/ is beside the repository (CI) or beside the folder of worktrees (a worktree checkout).
REAL_17K = next(
    (
        folder / "2019-Oct-head-17k.csv"
        for folder in (REAL_DATA, Path(__file__).resolve().parents[3] / "shared/data/real")
        if (folder / "2019-Oct-head-17k.csv").exists()
    ),
    REAL_DATA / "2019-Oct-head-17k.csv",
)
NOVEMBER = datetime(2019, 11, 1)


def views_only_export(path: Path, events: int = 30_000, customers: int = 2_719) -> None:
    """A November without purchase (nor cart) events: views only, as after a tag outage."""
    rng = np.random.default_rng(30)
    users = 512_000_000 + rng.permutation(customers * 4)[:customers]
    who = np.concatenate([np.arange(customers), rng.integers(0, customers, events - customers)])
    seconds = np.sort(rng.integers(0, 30 * 86_400, events))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        out.write(HEADER + "\n")
        for i, (u, s) in enumerate(zip(who, seconds, strict=True)):
            stamp = (NOVEMBER + timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S")
            product = 1_000_000 + int(rng.integers(0, 3_000))
            price = f"{rng.lognormal(4, 1):.2f}"
            out.write(
                f"{stamp} UTC,view,{product},2053013552326770905,electronics.smartphone,acme,"
                f"{price},{users[u]},s{u}-{i // 50}\n"
            )


def excel_november_export(path: Path, rows: int = 22, *, scientific_ids: bool = False) -> int:
    """The real excerpt's first rows moved to November and re-saved by Excel: prices lose their
    trailing zeros ("33.2"), and with ``scientific_ids`` the ids their digits ("5.41312E+08",
    Excel's General format for a column it took for numbers).

    Returns the number of distinct customers (19 for the first 22 rows).
    """
    with real_file(REAL_17K).open(newline="") as handle:
        head = [r for _, r in zip(range(rows), csv.DictReader(handle), strict=False)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER.split(","), lineterminator="\n")
        writer.writeheader()
        for r in head:
            writer.writerow(
                {
                    **r,
                    "event_time": r["event_time"].replace("2019-10-", "2019-11-"),
                    "price": str(float(r["price"])).rstrip("0").rstrip("."),
                    "user_id": f"{float(r['user_id']):.5E}" if scientific_ids else r["user_id"],
                }
            )
    return len({r["user_id"] for r in head})


def run_month(tmp_path: Path, month: str) -> tuple[dg.ExecuteInProcessResult, Path]:
    defs = definitions_for(tmp_path, tmp_path / "landing")
    result = materialize_months([month], dg.DagsterInstance.ephemeral(), defs)[month]
    return result, tmp_path / "warehouse"


def restarts(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]


def materialised(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """asset → its metadata values, for every asset the run wrote."""
    out = {}
    for event in result.get_asset_materialization_events():
        m = event.step_materialization_data.materialization
        out[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
    return out


def open_every_page(warehouse: Path) -> dict[str, object]:
    """Build the app's state and render every page's view (no browser): nothing may raise."""
    from panel_app.app import PAGE_CLASSES
    from panel_app.state import AppState

    state = AppState(warehouse_uri=str(warehouse), key_file=None)
    return {name: page(state=state).view() for name, page in PAGE_CLASSES.items()}


def test_a_month_without_purchases_gets_browsing_segments_and_no_value_model(tmp_path, spark):
    views_only_export(tmp_path / "landing" / "2019-11" / "views.csv")
    result, warehouse = run_month(tmp_path, "2019-11")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert restarts(result) == []
    written = materialised(result)
    assert set(written) == ASSETS
    assert written["pca_embedding"]["status"] == "segmented"
    names = written["cluster_profiles"]["names"]
    assert len(names) == len(set(names)) >= 2
    assert not any("(" in n for n in names)
    assert written["customer_value"]["buyers"] == 0
    assert "2019-11" in written["customer_value"]["not_modelled"]

    from panel_app import data

    uri = str(warehouse)
    assert data.available_months(uri) == ["2019-11"]
    assert data.not_segmented_months(uri) == {}
    profiles = data.profiles(uri, "2019-11")
    assert (profiles["buyer_share"] == 0).all() and profiles["name"].is_unique
    assert not data.has_value(uri, "2019-11")
    open_every_page(warehouse)


def test_a_tiny_excel_month_is_not_segmented_and_says_why(tmp_path, spark):
    customers = excel_november_export(tmp_path / "landing" / "2019-11" / "november-excerpt.csv")
    assert customers == 19
    result, warehouse = run_month(tmp_path, "2019-11")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert restarts(result) == []
    written = materialised(result)
    assert set(written) == ASSETS
    downstream = ("audience_exports", "audience_export_log", "action_outcomes")
    for asset in ("pca_embedding", "kmeans_model", "cluster_profiles", "segment_migration"):
        assert written[asset]["status"] == "not_segmented", asset
        assert "19 customer(s)" in written[asset]["reason"]
        assert "at least 110" in written[asset]["needed"]
    for asset in downstream:  # they recorded nothing: the report said plain "written"
        assert written[asset]["status"] == "not_segmented", asset
        assert "19 customer(s)" in written[asset]["reason"], asset
    assert written["cluster_profiles"]["segments"] == 0

    from amazing_assets.demo import month_report, runs_sentence

    report = month_report("2019-11", result)
    assert f"{len(ASSETS)} of {len(ASSETS)} assets written" in report
    assert "pca_embedding" in report and "not segmented" in report
    lines = {line.split()[0]: line for line in report.splitlines()[1:]}
    for asset in ("pca_embedding", "kmeans_model", "cluster_profiles", *downstream):
        assert "written with an outcome: not segmented: only 19" in lines[asset], lines[asset]
    assert runs_sentence({"2019-11": result}) == (
        "1 month(s) run: 0 complete, 1 with outcomes (not segmented / not modelled), 0 failed; "
        f"{len(ASSETS)} of {len(ASSETS)} assets written"
    )

    from panel_app import data

    uri = str(warehouse)
    assert data.available_months(uri) == []
    why = data.not_segmented_months(uri)
    assert list(why) == ["2019-11"] and "19 customer(s)" in why["2019-11"]["reason"]
    pages = open_every_page(warehouse)
    assert "19 customer(s)" in str(pages["overview"].objects[1].object)


def test_ids_that_went_through_excel_fail_the_month_at_once_with_what_to_do(tmp_path, spark):
    """Ids in scientific notation lost their digits: a data error, refused on the first attempt
    (never retried), with the message that says what to fix."""
    excel_november_export(tmp_path / "landing" / "2019-11" / "ids.csv", scientific_ids=True)
    result, _ = run_month(tmp_path, "2019-11")
    assert not result.success
    assert restarts(result) == []

    from amazing_assets.demo import month_report

    report = month_report("2019-11", result)
    assert f"0 of {len(ASSETS)} assets written" in report
    assert "raw_events           failed" in report and "unparseable_user_id" in report
    assert "pca_embedding        not run" in report


def reshaped_export(landing: Path, month: str, change: str) -> None:
    """A generated month rewritten so that every price is zero, every event falls on one day,
    or every event is on one product (a broken price feed, a one-day export, a test store)."""
    from amazing_assets.datagen.generator import GenerationSpec, generate_month

    generated = generate_month(
        GenerationSpec(month=month, events=20_000, users=2_000, seed=30, defects=False), landing
    ).path
    with generated.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if change == "zero_prices":
            row["price"] = "0.00"
        elif change == "one_day":
            row["event_time"] = f"{month}-15 " + row["event_time"].split(" ", 1)[1]
        elif change == "one_product":
            row["product_id"], row["category_id"] = "1000978", "2053013552326770905"
    with generated.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER.split(","), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("change", ["zero_prices", "one_day", "one_product"])
def test_a_month_of_zero_prices_one_day_or_one_product_ends_in_a_clear_state(
    tmp_path, spark, change
):
    """Before issue 30 these cases were decided on hand-built feature tables only; here each
    goes through ingestion, cleaning, features, value, segments and the app."""
    reshaped_export(tmp_path / "landing", "2019-11", change)
    result, warehouse = run_month(tmp_path, "2019-11")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert restarts(result) == []
    written = materialised(result)
    assert set(written) == ASSETS
    for asset in ("pca_embedding", "kmeans_model", "customer_value"):
        status = written[asset].get("status")  # done, or an outcome that says why
        assert status in (None, "segmented", "modelled") or written[asset].get("reason"), asset
    verdict = read_months(Location.parse(str(warehouse / "month_verdict")), ["2019-11"])
    days = {r["aspect"]: r for r in verdict.to_pylist()}["days_covered"]
    assert (days["status"] == "warn") == (change == "one_day")
    open_every_page(warehouse)
