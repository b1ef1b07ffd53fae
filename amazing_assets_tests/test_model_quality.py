"""Model quality as the app reads it (issue 27): the figures, computed right on planted cases.

Pure logic, no Dagster and no Spark: the top-decile share, the quality bands, the segmentation's
quality tables and the value back-test's record (measured, not measurable yet, not modelled).
Expected values come from the planted data and independent arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amazing_assets.defs.segments.modeling import SelectionResult, TierSelection
from amazing_assets.defs.segments.quality import (
    QUALITY,
    QUALITY_SEGMENTS,
    QUALITY_TIERS,
    segmentation_quality,
    silhouette_band,
    stability_band,
)
from amazing_assets.defs.value.backtest import back_test, top_lift, top_share
from amazing_assets.defs.value.models import MIN_BUYERS, MIN_REPEAT_BUYERS, purchase_days
from amazing_assets.defs.value.quality import (
    BACKTEST,
    DECILES,
    MEASURED,
    NOT_MEASURABLE,
    NOT_MODELLED,
    measurable_from,
    value_quality,
)
from amazing_assets.defs.value.value_selection import Selection
from amazing_assets_tests.support.month_values import judged_month
from amazing_assets_tests.support.purchases import simulate_purchases


def test_top_decile_share_on_a_planted_case():
    """100 customers; the 10 ranked highest hold 57 % of the revenue, spread so that a wrong
    ranking (or a top of 9 or 11) would give another figure."""
    rng = np.random.default_rng(0)
    score = rng.permutation(100).astype(float)
    top = np.argsort(-score)[:10]
    revenue = np.full(100, 43.0 / 90)
    revenue[top] = 5.7
    assert top_share(score, revenue) == pytest.approx(0.57)
    assert top_lift(score, revenue) == pytest.approx(5.7)
    assert top_share(-score, revenue) == pytest.approx(10 * 43.0 / 90 / 100)  # the worst 10
    assert np.isnan(top_share(score, np.zeros(100)))


def test_bands_follow_the_published_thresholds():
    assert [silhouette_band(s) for s in (0.8, 0.6, 0.3, 0.1, -0.2)] == [
        "strong",
        "reasonable",
        "weak",
        "none",
        "none",
    ]
    assert [stability_band(j) for j in (0.9, 0.75, 0.6, 0.49)] == [
        "stable",
        "stable",
        "pattern",
        "dissolved",
    ]


def test_segmentation_quality_tables_carry_the_stored_figures():
    scores = pd.DataFrame({"k": [2, 3], "stability": [0.95, 0.88]})
    selection = SelectionResult(
        [
            TierSelection(0, 600, 1, "k=1: 600 customers with one behaviour", pd.DataFrame()),
            TierSelection(1, 400, 3, "k=3 (majority; ...)", scores, "majority"),
        ]
    )
    labels = np.array([0] * 600 + [1] * 200 + [2] * 150 + [3] * 50)
    stability = {0: 0.98, 1: 0.80, 2: 0.60, 3: 0.40}
    tables = segmentation_quality(selection, labels, stability, 0.42, 0.99, {0: 7, 1: 1})
    summary = tables[QUALITY].iloc[0]
    assert summary["k"] == 4 and summary["customers"] == 1000
    assert summary["silhouette_band"] == "weak"
    assert summary["stable_segments"] == 2 and summary["stable_share"] == pytest.approx(0.8)
    assert summary["min_stability"] == 0.40 and summary["mean_stability"] == pytest.approx(0.695)
    assert summary["min_segment_share"] == pytest.approx(0.05)
    tiers = tables[QUALITY_TIERS].set_index("tier")
    assert tiers.loc["non-buyers", "rule"] == "single" and tiers.loc["buyers", "k"] == 3
    assert tiers.loc["buyers", "selection_stability"] == 0.88
    assert np.isnan(tiers.loc["non-buyers", "selection_stability"])
    segments = tables[QUALITY_SEGMENTS]
    assert segments["segment_id"].tolist() == [7, 1, 2, 3]
    assert segments["share"].tolist() == pytest.approx([0.6, 0.2, 0.15, 0.05])
    assert segments["stability_band"].tolist() == ["stable", "stable", "pattern", "dissolved"]


def day_of(date: str) -> int:
    return (pd.Timestamp(date, tz="UTC") - pd.Timestamp("1970-01-01", tz="UTC")).days


@pytest.fixture(scope="module")
def history():
    transactions = simulate_purchases(1_500, "2019-01", 8, seed=3).transactions
    return purchase_days(transactions), [f"2019-{m:02d}" for m in range(1, 9)]


def test_a_measured_month_records_its_back_test(history):
    days, months = history
    test = back_test(days, "2019-05", sample=5_000)
    fit = judged_month(
        "2019-08",
        test,
        Selection(test.model, "back-test at 2019-05", pd.DataFrame([test.summary()])),
    )
    tables = value_quality("2019-08", days, months, fit)
    row = tables[BACKTEST].iloc[0]
    assert row["status"] == MEASURED and row["judged"]
    assert row["calibration_end"] == "2019-05" and row["holdout_end"] == "2019-08"
    # The holdout revenue of the customers known at the origin, recomputed from the purchases.
    known = set(days.loc[days["day"] < day_of("2019-06-01"), "user_key"])
    holdout = days[
        (days["day"] >= day_of("2019-06-01"))
        & (days["day"] < day_of("2019-09-01"))
        & days["user_key"].isin(known)
    ]
    assert row["actual_revenue"] == pytest.approx(holdout["value"].sum())
    assert row["actual_purchases"] == len(holdout)
    assert row["top_revenue_share"] == pytest.approx(test.top_lift * 0.1, rel=0.01)
    assert 0.1 < row["top_revenue_share"] <= 1.0
    assert row["purchase_ratio"] == pytest.approx(
        row["predicted_purchases"] / row["actual_purchases"]
    )
    deciles = tables[DECILES]
    assert deciles["decile"].tolist() == list(range(1, 11))
    assert deciles["customers"].sum() == row["backtest_customers"] == test.customers
    assert row["buyers"] == days.loc[days["day"] < day_of("2019-09-01"), "user_key"].nunique()


def test_a_short_history_is_not_measurable_yet_and_says_from_when(history):
    days, months = history
    fit = judged_month(
        "2019-02",
        None,
        Selection("modified_bg_nbd", "default (modified_bg_nbd): ...", pd.DataFrame()),
    )
    row = value_quality("2019-02", days, months, fit)[BACKTEST].iloc[0]
    assert row["status"] == NOT_MEASURABLE and not row["judged"]
    assert row["history_start"] == "2019-01" and row["history_months"] == 2
    assert row["history_days"] == 31 + 28
    # 1 500 customers buy in January: it meets the minimums, so April is the first testable.
    assert row["measurable_from"] == "2019-04"
    assert (
        np.isnan(row["top_revenue_share"])
        and value_quality("2019-02", days, months, fit)[DECILES].empty
    )


def test_measurable_from_waits_for_the_minimums():
    """A few buyers a month: the first month whose cumulated buyers and repeat buyers reach
    the minimums, plus three months; none while the minimums are not met."""
    rows = []
    for month in ["2019-01", "2019-02", "2019-03"]:
        for customer in range(8):  # 8 new buyers a month, each buys twice in their month
            key = f"{month}-{customer}"
            for day in (3, 17):
                rows.append({"customer": key, "time": f"{month}-{day:02d}", "value": 10.0})
    days = purchase_days(pd.DataFrame(rows))
    months = ["2019-01", "2019-02", "2019-03"]
    # Buyers up to a month: 8, 16, 24 (all repeat): the minimums (20, 10) hold from March.
    assert (MIN_BUYERS, MIN_REPEAT_BUYERS) == (20, 10)
    assert measurable_from(days, "2019-03", months) == "2019-06"
    assert measurable_from(days, "2019-02", months) is None


def test_a_month_below_the_minimums_is_not_modelled_with_its_counts(history):
    days, months = history
    few = days[days["user_key"].isin(days["user_key"].unique()[:12])]
    reason = "12 buyers, ... up to 2019-01"
    january = few[few["day"] < day_of("2019-02-01")]
    row = value_quality("2019-01", january, months, None, reason)[BACKTEST].iloc[0]
    assert row["status"] == NOT_MODELLED and row["reason"] == reason
    expected = january.groupby("user_key")["day"].nunique()
    assert row["buyers"] == len(expected) and row["repeat_buyers"] == int((expected > 1).sum())
    assert row["min_buyers"] == MIN_BUYERS and row["min_repeat_buyers"] == MIN_REPEAT_BUYERS
