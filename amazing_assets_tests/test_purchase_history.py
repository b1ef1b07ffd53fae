"""The value models' history grows by a month: each month's events are reduced once to purchase
days, and combining the monthly summaries gives what one pass over every event gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.value.backtest import month_value
from amazing_assets.defs.value.models import day_number, purchase_days_spark
from amazing_assets.defs.value.purchase_history import (
    PURCHASE_COLUMNS,
    PURCHASE_DAYS,
    month_purchase_days,
    purchase_history,
)
from amazing_assets.lib.delta_tables import write_arrow_months
from amazing_assets.lib.io_managers import read_spark
from amazing_assets.lib.warehouse import WarehouseResource
from amazing_assets_tests.support.purchases import simulate_purchases

MONTHS = ["2019-10", "2019-11", "2019-12", "2020-01"]


def clean_events_of(seed: int) -> pd.DataFrame:
    """Four months of purchases (some free, some views), a few filed under the month after
    their own as exports do, so two monthly summaries share (buyer, day) pairs."""
    tx = simulate_purchases(1_500, MONTHS[0], len(MONTHS), seed=seed).transactions
    rng = np.random.default_rng(seed)
    events = pd.DataFrame(
        {
            "user_key": tx["customer"].map(lambda c: f"k{c:05d}"),
            "event_time": pd.to_datetime(tx["time"], utc=True),
            "event_type": "purchase",
            "price": tx["value"].astype(float),
        }
    )
    events.loc[rng.random(len(events)) < 0.05, "event_type"] = "view"
    events.loc[rng.random(len(events)) < 0.03, "price"] = 0.0
    events["month"] = events["event_time"].dt.strftime("%Y-%m")
    late = rng.random(len(events)) < 0.02
    filed_later = events.loc[late, "month"].map(
        lambda m: MONTHS[min(MONTHS.index(m) + 1, len(MONTHS) - 1)] if m in MONTHS else m
    )
    events.loc[late, "month"] = filed_later
    # The same buyer-day in the right month too: the pair then spans two monthly summaries.
    twins = events[late].assign(month=lambda f: f["event_time"].dt.strftime("%Y-%m"))
    return pd.concat([events, twins], ignore_index=True).query("month in @MONTHS")


def warehouse_with(root: Path, events: pd.DataFrame) -> WarehouseResource:
    warehouse = WarehouseResource(
        warehouse_uri=str(root / "warehouse"), landing_uri=str(root / "landing")
    )
    table = pa.Table.from_pandas(events[[*PURCHASE_COLUMNS, "month"]], preserve_index=False)
    write_arrow_months(warehouse.table("clean_events"), table, MONTHS)
    return warehouse


def store_monthly_summaries(warehouse: WarehouseResource, months: list[str]) -> None:
    clean = warehouse.table("clean_events")
    frames = [month_purchase_days(clean, m).assign(month=m) for m in months]
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), preserve_index=False)
    write_arrow_months(warehouse.table(PURCHASE_DAYS), table, months)


@pytest.mark.parametrize("seed", [1, 2])
def test_four_months_of_summaries_give_the_predictions_of_one_pass_over_every_event(
    spark, tmp_path, seed
):
    events = clean_events_of(seed)
    warehouse = warehouse_with(tmp_path, events)
    assert events.duplicated(["user_key", "event_time"]).any()  # the spanning pairs exist
    one_pass = (
        purchase_days_spark(
            read_spark(spark, warehouse.table("clean_events"), MONTHS, PURCHASE_COLUMNS)
        )
        .toPandas()
        .sort_values(["user_key", "day"], ignore_index=True)
    )
    store_monthly_summaries(warehouse, MONTHS)
    incremental, history = purchase_history(warehouse, MONTHS[-1])
    assert history == MONTHS
    pd.testing.assert_frame_equal(
        incremental[["user_key", "day"]].astype({"day": "int64"}),
        one_pass[["user_key", "day"]].astype({"day": "int64"}),
    )
    # Summation order differs (per month, then across months): a cent at a rounding edge.
    np.testing.assert_allclose(incremental["value"], one_pass["value"], atol=0.011, rtol=0)
    for month in MONTHS[2:]:
        ours = month_value(incremental, month, sample=5_000).predictions
        reference = month_value(one_pass.astype({"day": "int32"}), month, sample=5_000).predictions
        pd.testing.assert_frame_equal(ours, reference, check_exact=False, rtol=1e-3)


def test_a_month_without_a_stored_summary_is_reduced_from_its_events(tmp_path):
    """A warehouse older than the table (or a summary lost) never yields a short history."""
    events = clean_events_of(3)
    complete = warehouse_with(tmp_path / "complete", events)
    store_monthly_summaries(complete, MONTHS)
    partial = warehouse_with(tmp_path / "partial", events)
    store_monthly_summaries(partial, MONTHS[:2])  # 2019-12 and 2020-01 never reduced
    rebuilt, history = purchase_history(partial, MONTHS[-1])
    assert history == MONTHS
    pd.testing.assert_frame_equal(rebuilt, purchase_history(complete, MONTHS[-1])[0])


def test_history_stops_at_the_month_asked(tmp_path):
    warehouse = warehouse_with(tmp_path, clean_events_of(4))
    store_monthly_summaries(warehouse, MONTHS)
    days, history = purchase_history(warehouse, "2019-11")
    assert history == MONTHS[:2]
    assert len(days) and days["day"].max() < day_number("2019-12-01")
