"""The month verdict: each data cause flagged on planted months, a steady month comparable."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amazing_assets.defs.monitoring.verdict import (
    ASPECTS,
    CAUTION,
    COMPARABLE,
    FIRST_MONTH,
    NOT_MEASURED,
    WARN,
    MonthFacts,
    VerdictRules,
    category_remap_share,
    judge,
    verdict_table,
    verdicts,
)

RULES = VerdictRules()


def steady(month: str, events: int = 100_000, **changes) -> MonthFacts:
    facts = {
        "month": month,
        "raw_rows": int(events * 1.02),
        "events": events,
        "days_with_events": 30 if month.endswith("-11") else 31,
        "bot_rows": events // 100,
        "duplicate_rows": events // 250,
        "defect_rows": events // 1000,
        "category_remap": 0.0,
        "window_months_with_events": 3,
        "window_months": 3,
    }
    return MonthFacts(**{**facts, **changes})


def warned(current: MonthFacts, previous: MonthFacts | None) -> list[str]:
    return judge(current, previous, RULES).warnings


def test_a_steady_month_is_comparable_and_lists_every_aspect():
    verdict = judge(steady("2019-11", 104_000), steady("2019-10"), RULES)
    assert verdict.verdict == COMPARABLE
    assert [f.aspect for f in verdict.findings] == list(ASPECTS)


@pytest.mark.parametrize(
    ("change", "aspect"),
    [
        ({"days_with_events": 12}, "days_covered"),  # an export cut after 12 days
        ({"events": 40_000, "raw_rows": 40_800}, "event_volume"),  # a tracking outage
        ({"events": 250_000, "raw_rows": 255_000}, "event_volume"),
        ({"bot_rows": 6_000}, "bot_share"),  # a bot burst: 1 % → 5.9 % of raw rows
        ({"duplicate_rows": 5_000}, "duplicate_share"),
        ({"defect_rows": 4_000}, "defect_share"),
        ({"category_remap": 0.8}, "category_remap"),  # December 2019's renumbering
        ({"window_months_with_events": 2}, "window_months"),  # the window filling up
    ],
)
def test_each_data_cause_is_flagged_alone(change, aspect):
    current = steady("2019-11", **change)
    assert warned(current, steady("2019-10")) == [aspect]
    assert judge(current, steady("2019-10"), RULES).verdict == CAUTION


def test_novembers_real_growth_is_not_a_data_cause():
    """Oct → Nov 2019 grew from 42.4 M to 67.5 M events (×1.59): Black Friday, a market."""
    assert warned(steady("2019-11", 67_501_979), steady("2019-10", 42_448_764)) == []


def test_a_first_month_says_so_and_still_checks_what_it_can():
    verdict = judge(steady("2019-10", days_with_events=9, window_months_with_events=1), None, RULES)
    assert verdict.verdict == FIRST_MONTH
    statuses = {f.aspect: f.status for f in verdict.findings}
    assert statuses["days_covered"] == WARN and statuses["window_months"] == WARN
    assert statuses["event_volume"] == NOT_MEASURED


def test_a_month_is_compared_with_the_calendar_month_before_not_an_older_one():
    judged = verdicts([steady("2019-10"), steady("2019-12", 10_000)], None, RULES)
    assert [v.verdict for v in judged] == [FIRST_MONTH, FIRST_MONTH]
    judged = verdicts([steady("2019-12", 10_000)], steady("2019-11"), RULES)
    assert judged[0].warnings == ["event_volume"]


def test_the_table_has_one_row_per_month_and_aspect_with_its_verdict():
    judged = verdicts(
        [steady("2019-11"), steady("2019-12", days_with_events=5)], steady("2019-10"), RULES
    )
    table = verdict_table(judged)
    assert len(table) == 2 * len(ASPECTS)
    by_month = table.groupby("month")["verdict"].unique().to_dict()
    assert by_month == {"2019-11": [COMPARABLE], "2019-12": [CAUTION]}


@settings(max_examples=200, deadline=None)
@given(
    events=st.integers(10_000, 10**8),  # shares of a few rows jump by rounding
    factor=st.floats(0.55, 1.8),
    bots=st.floats(0, 0.2),
    duplicates=st.floats(0, 0.2),
    days=st.integers(28, 31),
)
def test_scaling_a_month_within_the_rules_keeps_it_comparable(
    events, factor, bots, duplicates, days
):
    """A month that is the last one at another size, with the same shares, is comparable."""
    raw = int(events / (1 - bots - duplicates) + 1)

    def month(name: str, scale: float) -> MonthFacts:
        return MonthFacts(
            month=name,
            raw_rows=max(1, round(raw * scale)),
            events=max(1, round(events * scale)),
            days_with_events=days if name == "2019-12" else 30,
            bot_rows=round(raw * scale * bots),
            duplicate_rows=round(raw * scale * duplicates),
            category_remap=0.0,
            window_months_with_events=3,
            window_months=3,
        )

    verdict = judge(month("2019-12", factor), month("2019-11", 1.0), RULES)
    assert verdict.verdict == COMPARABLE, verdict.findings


@settings(max_examples=100, deadline=None)
@given(
    products=st.lists(
        st.tuples(st.integers(1, 50), st.integers(1, 5), st.integers(1, 100)),
        min_size=1,
        max_size=60,
    ),
    remapped=st.sets(st.integers(1, 50)),
)
def test_the_remap_share_counts_the_events_of_products_whose_category_changed(products, remapped):
    previous = pd.DataFrame(products, columns=["product_id", "category_id", "events"])
    previous = previous.drop_duplicates(["product_id"])
    current = previous.assign(
        category_id=[
            c + 1000 if p in remapped else c
            for p, c in zip(previous.product_id, previous.category_id, strict=True)
        ]
    )
    share = category_remap_share(current, previous)
    changed = current["product_id"].isin(remapped)
    expected = current.loc[changed, "events"].sum() / current["events"].sum()
    assert share is not None and math.isclose(share, expected)


def test_the_remap_share_ignores_new_products_and_needs_a_previous_month():
    previous = pd.DataFrame({"product_id": [1], "category_id": [10], "events": [5]})
    current = pd.DataFrame({"product_id": [1, 2], "category_id": [10, 99], "events": [5, 500]})
    assert category_remap_share(current, previous) == 0.0
    assert category_remap_share(current, None) is None
    assert category_remap_share(current, previous.assign(product_id=[7])) is None
