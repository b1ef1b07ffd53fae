"""Customer value: the RFM-T summary, the models' predictions and the back-test, on purchase
histories with planted habits (``support/purchases.py``), two seeds each.

Expected values come from the planted truth and from pymc-marketing's own summary function, not
from the module under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amazing_assets.defs.value.backtest import back_test, deciles_markdown, top_lift
from amazing_assets.defs.value.models import (
    expected_repeat_ratio,
    fit_value_model,
    last_day,
    predict_value,
    purchase_days,
    rfm_summary,
)
from amazing_assets_tests.support.purchases import simulate_purchases

SEEDS = (1, 2)


@pytest.fixture(scope="module", params=SEEDS)
def history(request):
    return simulate_purchases(20_000, "2019-01", 12, seed=request.param)


def test_the_summary_follows_pymc_marketing_conventions():
    from pymc_marketing.clv.utils import rfm_summary as library_summary

    history = simulate_purchases(2_000, "2019-01", 6, seed=3)
    transactions = history.transactions.assign(
        date=history.transactions["time"].dt.tz_localize(None)
    )
    expected = library_summary(
        transactions,
        "customer",
        "date",
        monetary_value_col="value",
        observation_period_end="2019-04-30",
        time_unit="D",
    ).set_index("customer_id")
    ours = rfm_summary(purchase_days(history.transactions), last_day("2019-04")).set_index(
        "user_key"
    )
    assert len(ours) == len(expected) > 1_000
    joined = ours.join(expected, rsuffix="_lib", how="inner")
    assert len(joined) == len(expected)
    for column in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(joined[column], joined[f"{column}_lib"], atol=0.011)
    assert (ours["frequency"] > 0).sum() > 200  # repeat buyers exist, so monetary is compared


def test_predictions_follow_the_planted_habits(history):
    days = purchase_days(history.transactions)
    summary = rfm_summary(days, last_day("2019-12"))
    model = fit_value_model(summary)
    predicted = predict_value(model, summary).merge(
        history.truth, left_on="user_key", right_on="customer"
    )
    assert all(np.isfinite(v) for v in model.parameters.values())
    assert (predicted[["expected_purchases_90d", "expected_revenue_90d"]] >= 0).all().all()
    assert predicted["p_alive"].between(0, 1).all()
    by_habit = predicted.groupby("habit")
    purchases = by_habit["expected_purchases_90d"].mean()
    churn = by_habit["churn_risk"].mean()
    order_value = by_habit["expected_order_value"].median()
    # The planted order: frequent buyers buy most, one-and-done buyers are the likeliest gone,
    # big baskets are worth most per order and bargain repeaters least.
    assert purchases.idxmax() == "loyal_frequent"
    assert churn.idxmax() == "one_and_done"
    assert churn["one_and_done"] > 2 * churn["loyal_frequent"]
    assert order_value.idxmax() == "big_basket" and order_value.idxmin() == "bargain_repeater"
    # Customers still active at the end are more often predicted alive than those who left.
    end = pd.Timestamp("2020-01-01", tz="UTC")
    gone = predicted["left_at"] < end
    assert predicted.loc[~gone, "p_alive"].mean() > predicted.loc[gone, "p_alive"].mean() + 0.2
    assert 0.8 < expected_repeat_ratio(model, summary) < 1.25


def test_back_test_is_calibrated_and_the_top_decile_is_worth_several_random_ones(history):
    test = back_test(purchase_days(history.transactions), "2019-09")
    print(test.summary(), deciles_markdown(test), sep="\n")
    assert test.holdout_months == ["2019-10", "2019-11", "2019-12"]
    assert 0.85 < test.purchase_ratio < 1.15
    assert 0.8 < test.predicted_revenue / test.actual_revenue < 1.25
    deciles = test.deciles.set_index("decile")
    assert len(deciles) == 10 and deciles["customers"].sum() == test.customers
    # Deciles that buy at all in the holdout are predicted within 25 %.
    busy = deciles[deciles["actual"] > 0.25]
    assert len(busy) >= 5 and busy["ratio"].between(0.75, 1.25).all()
    assert deciles["actual"].is_monotonic_increasing or deciles["actual"].iloc[-1] == max(
        deciles["actual"]
    )
    assert test.top_lift > 3 and test.top_purchase_lift > 3


def test_top_lift_is_one_for_a_random_score_and_ten_for_a_perfect_one():
    rng = np.random.default_rng(0)
    outcome = np.zeros(10_000)
    outcome[rng.choice(10_000, 1_000, replace=False)] = 1.0
    assert top_lift(outcome, outcome) == pytest.approx(10.0)
    assert top_lift(rng.random(10_000), outcome) == pytest.approx(1.0, abs=0.3)


def test_segments_get_value_and_churn_and_win_back_only_where_it_pays(history):
    from amazing_assets.defs.segments.value_summary import segment_value, with_value_actions

    days = purchase_days(history.transactions)
    summary = rfm_summary(days, last_day("2019-12"))
    value = predict_value(fit_value_model(summary), summary)
    habits = sorted(history.truth["habit"].unique())
    truth = history.truth.assign(segment=history.truth["habit"].map(habits.index))
    browsers = pd.DataFrame({"customer": [-i for i in range(1, 501)], "segment": len(habits)})
    assignments = pd.concat([truth[["customer", "segment"]], browsers]).rename(
        columns={"customer": "user_key"}
    )
    segments = segment_value(assignments, value)
    profiles = pd.DataFrame({"segment": range(len(habits) + 1), "name": [*habits, "browsers"]})
    described = with_value_actions(profiles, segments).set_index("name")

    # Every customer's expected revenue lands in exactly one segment.
    assert described["expected_revenue_90d"].sum() == pytest.approx(
        value["expected_revenue_90d"].sum()
    )
    assert described.loc["browsers", "modelled_buyers"] == 0
    assert described.loc["browsers", "value_priority"] == "no_history"
    assert np.isnan(described.loc["browsers", "churn_risk"])
    churn = described["churn_risk"].drop("browsers")
    assert churn.idxmax() == "one_and_done"
    # Planted: one-and-done buyers mostly left and bring little -> no paid win-back for them;
    # big baskets are worth the most per buyer.
    assert described.loc["one_and_done", "value_priority"] == "low_cost_reminder"
    assert described["expected_revenue_per_buyer"].idxmax() == "big_basket"
    assert described.loc["big_basket", "value_priority"] in {"protect", "win_back"}
    assert described.loc["loyal_frequent", "value_priority"] == "protect"
    for _, row in described.iterrows():
        assert row["value_action"] and row["value_action_fr"]


@pytest.mark.spark
def test_spark_purchase_days_match_the_pandas_reference(spark):
    history = simulate_purchases(3_000, "2019-10", 2, seed=4)
    tx = history.transactions
    events = pd.DataFrame(
        {
            "user_key": tx["customer"].map(lambda c: f"k{c:05d}"),
            "event_time": tx["time"],
            "event_type": "purchase",
            "price": tx["value"],
        }
    )
    noise = events.sample(2_000, random_state=0).assign(event_type="view")
    free = events.sample(300, random_state=1).assign(price=0.0)  # no revenue, no purchase day
    frame = pd.concat([events, noise, free], ignore_index=True)
    frame["event_time"] = frame["event_time"].dt.tz_convert("UTC").dt.tz_localize(None)
    from amazing_assets.defs.value.models import purchase_days_spark

    ours = purchase_days_spark(spark.createDataFrame(frame)).toPandas()
    expected = purchase_days(
        events.rename(columns={"user_key": "customer", "event_time": "time", "price": "value"})
    )
    ours = ours.sort_values(["user_key", "day"]).reset_index(drop=True)
    assert len(ours) == len(expected)
    assert (ours["user_key"].to_numpy() == expected["user_key"].to_numpy()).all()
    assert (ours["day"].to_numpy() == expected["day"].to_numpy()).all()
    np.testing.assert_allclose(ours["value"], expected["value"], atol=0.005)


def test_a_history_without_repeat_buyers_is_not_modelled():
    from amazing_assets.defs.value.models import empty_predictions, too_little_history

    history = simulate_purchases(500, "2019-10", 1, seed=5)
    firsts = history.transactions.drop_duplicates("customer")  # one purchase each
    reason = too_little_history(purchase_days(firsts), "2019-10")
    assert reason and "0 repeat buyers" in reason
    assert too_little_history(purchase_days(history.transactions), "2019-10") is None
    empty = empty_predictions()
    assert empty.empty and list(empty.columns)[:2] == ["user_key", "frequency"]


@pytest.mark.slow  # compiles the model with Numba in a fresh interpreter (~30 s)
def test_without_a_cxx_compiler_the_fit_compiles_with_numba_and_finds_the_same_optimum():
    """The runtime image has no g++: pytensor's Python fallback took 401 s for 100 k buyers."""
    import pytensor

    from amazing_assets.defs.value.models import fit_backend

    history = simulate_purchases(5_000, "2019-01", 12, seed=6)
    summary = rfm_summary(purchase_days(history.transactions), last_day("2019-12"))
    with_c = fit_value_model(summary)
    with pytensor.config.change_flags(cxx=""):
        assert fit_backend() == "NUMBA"
        with_numba = fit_value_model(summary)
    assert (with_c.backend, with_numba.backend) == ("C", "NUMBA")
    for name, value in with_c.parameters.items():
        assert with_numba.parameters[name] == pytest.approx(value, rel=1e-3), name
