"""The pipeline writes the model-quality tables the app reads (issue 27), through Dagster.

The session's two-month backfill: ``kmeans_model/quality*`` hold what the run reported in its
metadata, and ``value_quality`` says "not measurable yet" (two months cannot be back-tested).
A warehouse with eight months of planted purchases: ``customer_value`` stores a measured
back-test, and a month below the minimums a "not modelled" record with its counts.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.value.assets import customer_value
from amazing_assets.defs.value.models import MIN_BUYERS, MIN_REPEAT_BUYERS
from amazing_assets.defs.value.purchase_history import PURCHASE_COLUMNS
from amazing_assets.lib.delta_tables import read_months, write_arrow_months
from amazing_assets.lib.partitions import partition_key_of
from amazing_assets.lib.storage import Location
from amazing_assets_tests.support.pipeline_run import MONTHS, definitions_for
from amazing_assets_tests.support.purchases import simulate_purchases

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def table(warehouse: Path, name: str, months: list[str] | None = None) -> pd.DataFrame:
    return read_months(Location.parse(str(warehouse / name)), months).to_pandas()


def materialization(result, asset: str) -> dict:
    events = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in events[-1].materialization.metadata.items()}


def test_the_backfill_stores_each_months_segment_quality_as_reported(backfilled):
    warehouse = backfilled.warehouse
    quality = table(warehouse, "kmeans_model/quality").set_index("month")
    segments = table(warehouse, "kmeans_model/quality_segments")
    tiers = table(warehouse, "kmeans_model/quality_tiers")
    assignments = table(warehouse, "kmeans_model/assignments")
    assert sorted(quality.index) == MONTHS
    for month in MONTHS:
        reported = materialization(backfilled.result.by_month[month], "kmeans_model")
        row = quality.loc[month]
        assert row["k"] == reported["k"]
        assert round(row["silhouette"], 4) == reported["silhouette"]
        assert round(row["min_stability"], 4) == reported["min_stability"]
        month_segments = segments[segments["month"] == month].set_index("segment")
        stability = {int(k): v for k, v in reported["stability_by_segment"].items()}
        assert month_segments["stability"].round(4).to_dict() == stability
        counts = assignments[assignments["month"] == month]["segment"].value_counts(normalize=True)
        assert month_segments["share"].to_dict() == pytest.approx(counts.to_dict())
        month_tiers = tiers[tiers["month"] == month]
        assert month_tiers["k"].sum() == row["k"]
        assert set(month_tiers["rule"]) <= {
            "single",
            "value_tier",
            "collapsed",
            "most_stable",
            "majority",
            "smallest_voted",
        }
        why = reported["why_this_k"]
        assert dict(zip(month_tiers["tier"], month_tiers["reason"], strict=True)) == why


def test_the_backfill_says_the_value_back_test_is_not_measurable_yet(backfilled):
    warehouse = backfilled.warehouse
    rows = table(warehouse, "value_quality/backtest").set_index("month")
    events = table(warehouse, "clean_events", MONTHS)
    assert sorted(rows.index) == MONTHS
    for month in MONTHS:
        row = rows.loc[month]
        priced = events[
            (events["event_type"] == "purchase")
            & (events["price"] > 0)
            & (events["month"] <= month)
        ]
        assert row["status"] == "not_measurable" and not row["judged"]
        assert row["buyers"] == priced["user_key"].nunique()
        assert (
            row["history_start"] == MONTHS[0] and row["history_months"] == MONTHS.index(month) + 1
        )
        assert row["measurable_from"] == "2020-01"  # October meets the minimums, + 3 months
        assert pd.isna(row["top_revenue_share"])
    assert table(warehouse, "value_quality/deciles").empty


LONG = ["2019-11", "2019-12", *(f"2020-{m:02d}" for m in range(1, 7))]


def clean_events(history_months: list[str]) -> pd.DataFrame:
    """Purchases of 1 200 planted customers over ``history_months``, as clean events; and a
    month before them (2019-10, the first partition) with five one-time buyers: below the
    minimums."""
    tx = simulate_purchases(1_200, history_months[0], len(history_months), seed=4).transactions
    events = pd.DataFrame(
        {
            "user_key": tx["customer"].map(lambda c: f"k{c:05d}"),
            "event_time": pd.to_datetime(tx["time"], utc=True),
            "event_type": "purchase",
            "price": tx["value"].astype(float),
        }
    )
    early = pd.DataFrame(
        {
            "user_key": [f"early{i}" for i in range(5)],
            "event_time": pd.to_datetime([f"2019-10-{d:02d} 10:00" for d in range(1, 6)], utc=True),
            "event_type": "purchase",
            "price": 20.0,
        }
    )
    events = pd.concat([early, events], ignore_index=True)
    events["month"] = events["event_time"].dt.strftime("%Y-%m")
    return events[events["month"] <= history_months[-1]]


def test_a_long_history_stores_a_measured_back_test_and_a_short_month_its_counts(tmp_path, spark):
    defs = definitions_for(tmp_path, tmp_path / "landing")
    warehouse = tmp_path / "warehouse"
    events = clean_events(LONG)
    months = ["2019-10", *LONG]
    frame = pa.Table.from_pandas(events[[*PURCHASE_COLUMNS, "month"]], preserve_index=False)
    write_arrow_months(Location.parse(str(warehouse / "clean_events")), frame, months)
    results = {}
    for month in ("2019-10", LONG[-1]):
        results[month] = dg.materialize(
            [customer_value],
            partition_key=partition_key_of(month),
            resources=defs.resources,
            raise_on_error=False,
        )
        assert results[month].success, [
            e.message for e in results[month].all_events if e.is_failure
        ]
    rows = table(warehouse, "value_quality/backtest").set_index("month")
    hidden = rows.loc["2019-10"]
    assert hidden["status"] == "not_modelled"
    assert (hidden["buyers"], hidden["repeat_buyers"]) == (5, 0)
    assert (hidden["min_buyers"], hidden["min_repeat_buyers"]) == (MIN_BUYERS, MIN_REPEAT_BUYERS)
    assert "5 buyers" in hidden["reason"]
    assert table(warehouse, "customer_value", ["2019-10"]).empty  # hidden: nothing predicted

    measured = rows.loc[LONG[-1]]
    reported = materialization(results[LONG[-1]], "customer_value")
    assert measured["status"] == "measured" and measured["judged"]
    assert measured["model"] == reported["purchase_model"]
    assert measured["calibration_end"] == "2020-03" and measured["holdout_end"] == "2020-06"
    assert round(measured["purchase_ratio"], 3) == reported["back_test_purchase_ratio"]
    # Share of the holdout revenue of the top 10 % = lift × the top's share of the customers.
    top = max(1, round(measured["backtest_customers"] * 0.1)) / measured["backtest_customers"]
    assert measured["top_revenue_share"] / top == pytest.approx(
        reported["back_test_top10_lift"], abs=0.006
    )
    assert measured["buyers"] == events[events["month"] <= LONG[-1]]["user_key"].nunique()
    assert measured["history_start"] == "2019-10" and measured["history_months"] == 9
    deciles = table(warehouse, "value_quality/deciles", [LONG[-1]])
    assert deciles["decile"].tolist() == list(range(1, 11))
    assert deciles["customers"].sum() == measured["backtest_customers"]
    tracking = reported["tracking"]
    assert [round(d["actual"], 4) for d in tracking["deciles"]] == deciles["actual"].round(
        4
    ).tolist()
