"""Degenerate months, generated (hypothesis): feature tables in, outcomes out, no Spark.

Every case of issue 30 and their combinations, at sizes from 0 to 5 000 customers and several
seeds: too few customers, a single customer, no buyers, one behaviour only (views only, or
purchases only), no carts, every price zero, every event in one day, one product, identical
customers. Each month must end either segmented (names unique, true by definition, never
numbered) or with a documented outcome (status, why, what is needed); no library exception
escapes; the value stage says "not modelled" instead of fitting nothing; and the app's logic
functions accept the result.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amazing_assets.defs.segments import modeling
from amazing_assets.defs.segments.chain import merge_twins, profile_stage, segment_month
from amazing_assets.defs.segments.distinct_names import (
    SEPARATOR,
    TRAITS,
    base_name,
    distinct_names,
    indistinguishable,
)
from amazing_assets.defs.segments.modeling import (
    ModelingConfig,
    build_embedding,
    fit_embedding,
    high_basket_threshold,
    kmeans_from_centres,
)
from amazing_assets.defs.segments.outcomes import (
    NOT_SEGMENTED,
    Outcome,
    min_customers,
    segmentation_outcome,
)
from amazing_assets.defs.segments.profiles import action_for, fits
from amazing_assets.defs.value.models import too_little_history
from amazing_assets_tests.support.degenerate_months import Degenerate, features_of, purchase_days_of
from panel_app.changes import segment_changes
from panel_app.data import at_risk, migration_labels, top_customers
from panel_app.pages.base import not_segmented_markdown

# Small samples so a case takes a second or two; the rules (tiers, k range, names) are the same.
CONFIG = ModelingConfig(
    selection_sample=2_000,
    score_sample=1_000,
    selection_rounds=2,
    bootstrap_rounds=2,
    bootstrap_sample=2_000,
    n_init=2,
)
SIZES = [0, 1, 2, 19, 109, 110, 111, 150, 400, 1_200, 2_719]


def assert_month_ends_clearly(case: Degenerate) -> Outcome:
    """The whole modelling chain of one month, as the assets run it, with every invariant."""
    features = features_of(case)
    outcome = segmentation_outcome(features, CONFIG)
    too_few = len(features) < min_customers(CONFIG)
    same = case.identical and len(features) > 0
    if too_few or same:
        assert outcome.status == NOT_SEGMENTED, case.label()
        assert outcome.reason and outcome.needed
        assert (f"{min_customers(CONFIG):,}" in outcome.needed) == too_few
    else:
        assert outcome.segmented, (case.label(), outcome)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning on near-constant tiers is fine
            month = segment_month(features, CONFIG)
        assert_segments_are_meaningful(month.profiles, features, case)
        assert_the_app_accepts(month.profiles, case)
    value_reason = too_little_history(purchase_days_of(features), "2019-12")
    buyers = int(((features["frequency"] > 0) & (features["monetary"] > 0)).sum())
    if buyers < 20:
        assert value_reason and "buyers" in value_reason, case.label()
    return outcome


def assert_segments_are_meaningful(profiles: pd.DataFrame, features, case: Degenerate) -> None:
    names = profiles["name"]
    assert names.notna().all() and names.is_unique, (case.label(), names.tolist())
    assert not names.str.contains(r" \(\d+\)$|group \d", regex=True).any(), names.tolist()
    assert profiles["name_fr"].is_unique, profiles["name_fr"].tolist()
    assert profiles["share"].sum() == pytest.approx(1.0)
    assert profiles["size"].sum() == len(features)
    for _, p in profiles.iterrows():
        assert fits(p, p["name"]), (case.label(), p["name"])
        action_for(p["name"])  # every name has an action, qualified or not
    if case.no_buyers or case.only_views:
        assert (profiles["buyer_share"] == 0).all()  # browsing segments only


def assert_the_app_accepts(profiles: pd.DataFrame, case: Degenerate) -> None:
    """The pages' logic: change sentences, Sankey labels, value tables (empty: no value model)."""
    history = profiles.assign(month="2019-12", churn_risk=np.nan)
    for language in ("en", "fr"):
        sentences = segment_changes(history, "2019-12", None, language)
        assert len(sentences) == len(profiles)
    flows = pd.DataFrame(
        {"from_name": ["(new)"] * len(profiles), "to_name": profiles["name"], "customers": 1}
    )
    labelled = migration_labels(flows, {}, "2019-11", "2019-12", "new", "gone")
    assert not set(labelled["source"]) & set(labelled["target"])
    values = pd.DataFrame(  # as read from customer_value for a month not modelled: no row
        {
            "user_key": pd.Series(dtype=object),
            **{
                c: pd.Series(dtype="float64")
                for c in ("p_alive", "churn_risk", "expected_revenue_90d")
            },
            "segment": pd.Series(dtype="int32"),
        }
    )
    assert top_customers(values).empty and at_risk(values, 0).empty


cases = st.builds(
    Degenerate,
    customers=st.sampled_from(SIZES[:-2]) | st.integers(0, 600),
    seed=st.integers(0, 10_000),
    no_buyers=st.booleans(),
    no_carts=st.booleans(),
    only_views=st.booleans(),
    only_purchases=st.booleans(),
    zero_prices=st.booleans(),
    one_day=st.booleans(),
    one_product=st.booleans(),
    identical=st.booleans(),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(cases)
def test_every_degenerate_month_is_segmented_or_says_why(case):
    assert_month_ends_clearly(case)


@pytest.mark.parametrize(
    "case",
    [
        Degenerate(2_719, seed=30, no_buyers=True),  # the purchase-tag outage of the issue
        Degenerate(19, seed=11),  # the tiny excerpt of the issue
        Degenerate(1, seed=1),
        Degenerate(0),
        Degenerate(110, seed=2, only_views=True, one_day=True, one_product=True),
        Degenerate(500, seed=3, only_purchases=True, zero_prices=True),
        Degenerate(800, seed=4, no_carts=True, zero_prices=True, one_day=True),
        Degenerate(300, seed=5, identical=True),
        Degenerate(5_000, seed=6, no_buyers=True, no_carts=True),
        Degenerate(5_000, seed=7, one_day=True, one_product=True),
    ],
    ids=lambda c: c.label(),
)
def test_each_named_case(case):
    assert_month_ends_clearly(case)


def test_a_month_without_buyers_gets_a_finite_high_basket_threshold_sklearn_accepts():
    """Before: ∞, which ``Binarizer`` refused (InvalidParameterError, retried three times)."""
    features = features_of(Degenerate(300, no_buyers=True))
    threshold = high_basket_threshold(features)
    assert np.isfinite(threshold)
    embedding = build_embedding(CONFIG)
    embedding.set_params(preprocess__high_basket__threshold=threshold)
    embedding.fit(features)  # raised InvalidParameterError with threshold=inf


def test_the_outcome_round_trips_through_its_stored_row():
    outcome = segmentation_outcome(features_of(Degenerate(19)), CONFIG)
    assert Outcome.from_frame(outcome.frame()) == outcome
    assert Outcome.from_frame(None).segmented  # months stored before outcomes existed
    assert outcome.sentence().startswith("not_segmented: only 19 customer(s)")
    text = not_segmented_markdown({"2019-11": outcome.__dict__}, "Months not segmented")
    assert "2019-11" in text and "at least 110" in text
    assert not_segmented_markdown({}, "x") == ""


def test_one_too_few_customers_rule_for_the_outcome_and_the_embedding(monkeypatch):
    """The outcome and the embedding's guard read one rule: moving it moves both. (The guard had
    its own ``max_segments * 10``; at five per segment it still refused 60 customers.)"""
    monkeypatch.setattr(modeling, "CUSTOMERS_PER_SEGMENT", 5)
    assert min_customers(CONFIG) == CONFIG.min_customers == 5 * CONFIG.max_segments == 55
    features = features_of(Degenerate(60, seed=8))
    assert segmentation_outcome(features, CONFIG).segmented
    fit_embedding(features, CONFIG)
    fewer = features.head(54)
    assert not segmentation_outcome(fewer, CONFIG).segmented
    with pytest.raises(ValueError, match="at least 55 are needed"):
        fit_embedding(fewer, CONFIG)


def test_a_broken_table_is_still_an_error_not_an_outcome():
    with pytest.raises(ValueError, match="lack model columns"):
        segmentation_outcome(pd.DataFrame({"user_key": ["a"]}), CONFIG)


# --- names: never two segments with one name ------------------------------------------------

Z_COLUMNS = [t.column for t in TRAITS]  # the eight behaviour z-scores and the share
LEVELS = [-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0]
WORDS = {w for t in TRAITS for w in (t.lower, t.middle, t.higher)}


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.sampled_from(["Browsers, low activity", "Buyers, mid basket"]),
                min_size=n,
                max_size=n,
            ),
            st.lists(  # few levels on few traits: ties are frequent, twins too
                st.lists(
                    st.sampled_from(LEVELS[:3]) | st.sampled_from(LEVELS),
                    min_size=len(Z_COLUMNS),
                    max_size=len(Z_COLUMNS),
                ),
                min_size=n,
                max_size=n,
            ),
            st.integers(1, len(Z_COLUMNS)),
        )
    )
)
def test_twins_are_merged_or_get_names_that_say_how_they_differ(drawn):
    names_in, values, varying = drawn
    profiles = pd.DataFrame(values, columns=Z_COLUMNS).assign(segment=range(len(values)))
    profiles.loc[:, Z_COLUMNS[varying:]] = 0.0  # the other traits tie for every segment
    into = indistinguishable(profiles)
    behaviour = [c for c in Z_COLUMNS if c != "share"]
    for twin, kept in into.items():  # merged: the same on every behaviour trait
        assert kept < twin and twin not in into.values()
        assert np.allclose(profiles.loc[twin, behaviour], profiles.loc[kept, behaviour])
    # The pipeline relabels the twins' members into one segment before naming (merge_twins).
    left = profiles[~profiles["segment"].isin(list(into))]
    names = distinct_names(left, {s: names_in[s] for s in left["segment"]})
    assert len(set(names.values())) == len(names)
    for segment, name in names.items():
        assert base_name(name) == names_in[segment]
        twins = sum(names_in[s] == names_in[segment] for s in names)
        assert (SEPARATOR in name) == (twins > 1)
        qualifiers = name.partition(SEPARATOR)[2]
        assert not qualifiers or set(qualifiers.split(", ")) <= WORDS, name  # never "group 2"
        assert action_for(name).name_fr.startswith(action_for(base_name(name)).name_fr)


def test_twins_that_tie_on_every_trait_are_merged_not_numbered():
    """Before, they were named "… — group 1" and "… — group 2" (an ordinal says nothing)."""
    same = dict.fromkeys(Z_COLUMNS, 0.5)
    profiles = pd.DataFrame([same, same | {"share": 0.9}, same | {"z_n_views": 1.0}])
    profiles = profiles.assign(segment=[0, 1, 2])
    assert indistinguishable(profiles) == {1: 0}  # the size alone does not make two segments
    name = "Browsers, low activity"
    identical = pd.DataFrame([same, same]).assign(segment=[0, 1])
    with pytest.raises(ValueError, match="tie on every trait"):  # it was "group 1", "group 2"
        distinct_names(identical, {0: name, 1: name})
    assert distinct_names(profiles.iloc[[0, 2]], {0: name, 2: name}) == {
        0: f"{name} — fewer product views",
        2: f"{name} — more product views",
    }


def test_the_segment_stage_merges_twins_so_assignments_model_and_profiles_agree():
    """Three centres, two of whose members behave exactly alike: one segment of them, in the
    assignments, in the nearest-centre model (what the predictor uses) and in the profiles."""
    rng = np.random.default_rng(3)
    features = features_of(Degenerate(300, seed=3, no_buyers=True))
    alike = features.iloc[:100].copy()
    features = pd.concat(
        [alike, alike.assign(user_key=alike["user_key"] + "b"), features.iloc[100:200]]
    )
    features = features.reset_index(drop=True)
    Z = np.vstack([rng.normal(c, 0.3, (100, 2)) for c in ((0, 0), (6, 0), (20, 0))])
    kmeans = kmeans_from_centres(np.array([[0.0, 0.0], [6.0, 0.0], [20.0, 0.0]]))
    merged = merge_twins(kmeans, Z, features)
    assert merged.n_clusters == 2
    labels = merged.predict(Z)
    assert len(set(labels[:200])) == 1 and set(labels[200:]) == {1 - labels[0]}
    named = profile_stage(features, labels)
    assert len(named) == 2 and named["name"].is_unique
    assert not named["name"].str.contains("group").any()


def test_two_browsing_twins_are_told_apart_by_their_views():
    profiles = pd.DataFrame(
        {"segment": [0, 1, 2], "z_n_views": [-1.0, 1.5, 0.2], "z_recency_days": [0.1, 0.0, 0.1]}
    )
    names = distinct_names(profiles, {0: "Browsers, low activity"} | dict.fromkeys([1, 2], "x"))
    assert names[0] == "Browsers, low activity"
    assert names[1] == "x — more product views" and names[2] == "x — fewer product views"
    assert action_for("Browsers, low activity — fewer product views").name_fr == (
        "Visiteurs, activité faible — moins de produits vus"
    )
