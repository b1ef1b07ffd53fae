"""Measurement's pure logic: control groups, intervals, power, and planted uplifts recovered.

No Spark and no Dagster: the functions the assets call, on generated exports whose truth is
known (``support/planted_uplift``). Coverage and false-positive rates are measured over 100
seeds at 20 k customers (unit tier) and 50 seeds at 200 k (slow tier, ~2 s a seed), and
printed (``-s``) for the record.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from amazing_assets.defs.measurement.audiences import build_audiences
from amazing_assets.defs.measurement.holdout import (
    CONTROL,
    TARGET,
    assign_groups,
    export_id,
    export_seed,
    holdout_scores,
)
from amazing_assets.defs.measurement.outcomes import (
    MEASURED,
    NOT_MEASURABLE,
    WAITING,
    WORKED,
    OutcomeSettings,
    measure_exports,
)
from amazing_assets.defs.measurement.statistics import (
    controls_needed,
    proportion_difference,
    welch_difference,
    wilson_interval,
)
from amazing_assets_tests.support.planted_uplift import PlantedUplift, plant_purchases

MONTH = "2019-11"


def keys(n: int, prefix: str = "k") -> list[str]:
    return [f"{prefix}{i:07d}" for i in range(n)]


def profiles(segments: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": segments,
            "name": [f"Segment {s}" for s in segments],
            "name_fr": [f"Segment FR {s}" for s in segments],
            "offer": [f"Offer {s}" for s in segments],
            "offer_fr": [f"Offre {s}" for s in segments],
            "channel": ["email"] * len(segments),
        }
    )


def one_export(n: int, share: float = 0.10, month: str = MONTH) -> pd.DataFrame:
    assignments = pd.DataFrame({"user_key": keys(n), "segment": 0})
    rows, _log = build_audiences(month, assignments, profiles([0]), share)
    return rows


# --- control groups ---------------------------------------------------------------------------


def test_the_control_share_is_close_to_the_share_asked_for():
    groups = assign_groups(export_seed(MONTH, 3), keys(20_000), 0.10)
    controls = int((groups == CONTROL).sum())
    low, high = stats.binom.ppf([0.0005, 0.9995], 20_000, 0.10)
    assert low <= controls <= high


def test_re_exporting_the_same_export_gives_every_customer_the_same_group():
    population = keys(5_000)
    seed = export_seed(MONTH, 3)
    first = assign_groups(seed, population, 0.10)
    again = assign_groups(seed, list(reversed(population)), 0.10)[::-1]
    assert (first == again).all()
    assert export_id(MONTH, 3) == export_id(MONTH, 3) != export_id(MONTH, 4)


def test_a_larger_share_keeps_every_earlier_control():
    population, seed = keys(5_000), export_seed(MONTH, 1)
    small = assign_groups(seed, population, 0.10) == CONTROL
    large = assign_groups(seed, population, 0.25) == CONTROL
    assert (large | ~small).all() and large.sum() > small.sum()


def test_two_exports_draw_independent_control_groups():
    """Controls of October and of November overlap as chance says (share²), not more."""
    population = keys(40_000)
    october = assign_groups(export_seed("2019-10", 2), population, 0.10) == CONTROL
    november = assign_groups(export_seed("2019-11", 2), population, 0.10) == CONTROL
    other = assign_groups(export_seed("2019-11", 5), population, 0.10) == CONTROL
    for a, b in ((october, november), (november, other)):
        table = [[(a & b).sum(), (a & ~b).sum()], [(~a & b).sum(), (~a & ~b).sum()]]
        assert stats.chi2_contingency(table).pvalue > 0.001


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=50, unique=True),
    st.floats(min_value=0.01, max_value=0.99),
)
def test_a_customer_s_group_depends_on_nothing_but_the_seed_and_their_key(population, share):
    seed = export_seed(MONTH, 0)
    together = dict(zip(population, assign_groups(seed, population, share), strict=True))
    for key in population[:5]:
        assert assign_groups(seed, [key], share)[0] == together[key]
    scores = holdout_scores(seed, population)
    assert ((scores >= 0) & (scores < 1)).all()


def test_build_audiences_covers_every_customer_once_and_logs_each_export():
    assignments = pd.DataFrame({"user_key": keys(3_000), "segment": np.arange(3_000) % 3})
    rows, log = build_audiences(MONTH, assignments, profiles([0, 1, 2]), 0.10, {"2": 0.5})
    assert len(rows) == 3_000 and rows["user_key"].is_unique
    assert set(rows["group"]) == {TARGET, CONTROL}
    assert log["customers"].tolist() == [1_000, 1_000, 1_000]
    assert (log["targets"] + log["controls"] == log["customers"]).all()
    assert log.set_index("segment").loc[2, "control_share"] == 0.5
    assert 400 < log.set_index("segment").loc[2, "controls"] < 600
    assert rows.groupby("export_id")["segment"].nunique().eq(1).all()
    assert {"action", "action_fr", "segment_name_fr", "created_at"} <= set(log.columns)
    with pytest.raises(ValueError, match="segments"):
        build_audiences(MONTH, assignments, profiles([0, 1, 2]), 0.10, {"7": 0.2})
    with pytest.raises(ValueError, match="strictly between"):
        build_audiences(MONTH, assignments, profiles([0, 1, 2]), 1.0)


# --- intervals and power ----------------------------------------------------------------------


def test_wilson_and_newcombe_match_the_published_examples():
    """Newcombe (1998), Statistics in Medicine 17:873, tables I and II."""
    low, high = wilson_interval(0, 10)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.2775)
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    d = proportion_difference(56, 70, 48, 80)
    assert (round(d.estimate, 4), round(d.low, 4), round(d.high, 4)) == (0.2, 0.0524, 0.3339)
    d = proportion_difference(10, 10, 0, 20)
    assert (round(d.low, 4), round(d.high, 4)) == (0.6791, 1.0)


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = rng.exponential(30, 400), rng.exponential(20, 90)
    mine = welch_difference(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    reference = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert mine.low == pytest.approx(reference.low) and mine.high == pytest.approx(reference.high)


def test_the_control_size_needed_gives_the_power_promised():
    """Simulated: with exactly the controls needed, a real +2 points is found ~80 % of the time."""
    base, effect, share = 0.10, 0.02, 0.10
    n_control = controls_needed(base, effect, share)
    n_target = round(n_control * (1 - share) / share)
    rng = np.random.default_rng(11)
    found = sum(
        proportion_difference(
            rng.binomial(n_target, base + effect),
            n_target,
            rng.binomial(n_control, base),
            n_control,
        ).low
        > 0
        for _ in range(600)
    )
    assert 1_500 < n_control < 3_000
    assert 0.74 <= found / 600 <= 0.86
    assert controls_needed(base, 2 * effect, share) < n_control / 3  # a quarter, roughly


# --- outcomes ---------------------------------------------------------------------------------


def test_an_export_waits_for_its_next_month():
    outcome = measure_exports(one_export(2_000), None, "2019-12")
    assert outcome["status"].tolist() == [WAITING]
    assert outcome["outcome_month"].tolist() == ["2019-12"]
    assert outcome["purchase_rate_diff"].isna().all() and outcome["verdict"].isna().all()
    assert outcome["targets"].iloc[0] + outcome["controls"].iloc[0] == 2_000


def test_a_small_control_is_not_measurable_and_says_how_many_controls_are_needed():
    exported = one_export(800)  # ~80 controls
    purchases = plant_purchases(exported, PlantedUplift(base_rate=0.2, uplift=0.5), seed=1)
    outcome = measure_exports(exported, purchases, "2019-12").iloc[0]
    assert outcome["status"] == NOT_MEASURABLE and pd.isna(outcome["verdict"])
    assert outcome["controls_needed"] > outcome["controls"]
    rate = (outcome["target_purchasers"] + outcome["control_purchasers"]) / 800
    assert outcome["controls_needed"] == controls_needed(rate, 0.02, 0.10)
    for column in ("purchase_rate_diff", "purchase_rate_low", "incremental_revenue"):
        assert pd.isna(outcome[column])


def test_outcomes_count_purchasers_orders_and_revenue_from_the_events():
    exported = one_export(10)
    target = exported.loc[exported["group"] == TARGET, "user_key"].iloc[0]
    purchases = pd.DataFrame(
        {"user_key": [target] * 3, "session_key": ["a", "a", "b"], "price": [10.0, 5.0, 1.0]}
    )
    outcome = measure_exports(exported, purchases, "2019-12").iloc[0]
    targets = int(outcome["targets"])
    assert outcome["target_purchasers"] == 1
    assert outcome["target_orders_per_customer"] == pytest.approx(2 / targets)
    assert outcome["target_revenue_per_customer"] == pytest.approx(16 / targets)


def coverage(n: int, truth: PlantedUplift, seeds: range, settings: OutcomeSettings) -> dict:
    exported = one_export(n)
    rate_hits = revenue_hits = worked = measured = 0
    for seed in seeds:
        row = measure_exports(exported, plant_purchases(exported, truth, seed), "2019-12", settings)
        row = row.iloc[0]
        if row["status"] != MEASURED:
            continue
        measured += 1
        rate_hits += row["purchase_rate_low"] <= truth.rate_difference <= row["purchase_rate_high"]
        revenue_hits += row["revenue_low"] <= truth.revenue_difference <= row["revenue_high"]
        worked += row["verdict"] == WORKED
    return {
        "measured": measured,
        "rate_coverage": rate_hits / measured,
        "revenue_coverage": revenue_hits / measured,
        "worked": worked / measured,
    }


SEEDS = {20_000: range(100), 200_000: range(50)}
SIZES = [20_000, pytest.param(200_000, marks=pytest.mark.slow)]  # 200 k: ~2 s a seed
PLANTED = PlantedUplift(base_rate=0.15, uplift=0.20)  # +20 % purchase probability: +3 points
NONE = PlantedUplift(base_rate=0.15, uplift=0.0)
SETTINGS = OutcomeSettings(minimum_effect=0.03)


def within_95(hits: float, seeds: int) -> bool:
    """A coverage compatible with 95 % over ``seeds`` draws (binomial, two-sided 99.9 %)."""
    low, high = stats.binom.ppf([0.0005, 0.9995], seeds, 0.95) / seeds
    return low <= hits <= high


@pytest.mark.parametrize("customers", SIZES)
def test_a_planted_uplift_is_recovered_inside_its_interval(customers):
    seeds = SEEDS[customers]
    figures = coverage(customers, PLANTED, seeds, SETTINGS)
    print(f"\nplanted +20 %, {customers:,} customers, {len(seeds)} seeds: {figures}")
    assert figures["measured"] == len(seeds)
    assert within_95(figures["rate_coverage"], len(seeds))
    assert within_95(figures["revenue_coverage"], len(seeds))
    assert figures["worked"] >= (0.6 if customers == 20_000 else 0.99)


@pytest.mark.parametrize("customers", SIZES)
def test_without_uplift_the_interval_covers_zero_about_95_percent_of_the_time(customers):
    seeds = SEEDS[customers]
    figures = coverage(customers, NONE, seeds, SETTINGS)
    false_positive = 1 - figures["rate_coverage"]
    print(
        f"\nno uplift, {customers:,} customers, {len(seeds)} seeds: {figures}, "
        f"false-positive rate {false_positive:.3f}"
    )
    assert figures["measured"] == len(seeds)
    assert within_95(figures["rate_coverage"], len(seeds))
    assert within_95(figures["revenue_coverage"], len(seeds))
    assert not math.isnan(false_positive)
