"""The third generator family (issue 26) draws what its processes say, on any seed.

The robustness suite scores segments against this family's planted kinds; these tests hold the
family to its own definition, so a score reflects the segmentation, not a generator bug.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amazing_assets_tests.support.lifecycles import (
    ALL_KINDS,
    KINDS,
    LIFECYCLE_SUITE,
    LifecycleSpec,
    simulate_lifecycles,
)
from amazing_assets_tests.support.populations import DAY, per_user_features


@given(
    seed=st.integers(0, 10_000),
    heterogeneity=st.floats(0.2, 1.2),
    as_of=st.sampled_from(["2019-10", "2019-12", "2020-02"]),
)
@settings(max_examples=25, deadline=None)
def test_every_customer_shows_the_stage_and_buying_of_their_kind(seed, heterogeneity, as_of):
    spec = LifecycleSpec("property", 3_000, ALL_KINDS, heterogeneity=heterogeneity, seed=seed)
    spec = replace(spec, as_of=as_of)
    events = simulate_lifecycles(spec)
    start, end = events.window
    assert events.time.min() >= start.timestamp() and events.time.max() < end.timestamp()
    features = per_user_features(events)
    assert (features["n_events"] > 0).all()  # every planted customer is seen
    for name, rows in features.groupby("behaviour"):
        kind = KINDS[str(name)]
        if kind.buys:
            assert (rows["frequency"] >= 1).all(), name
        else:
            assert (rows["frequency"] == 0).all(), name
        if kind.stage == "new":  # first seen within the arrival range (plus the day it began)
            assert (rows["tenure_days"] <= kind.stage_days[1] + 1).all(), name
        if kind.stage == "leaving":  # nothing after they left
            assert (rows["recency_days"] >= kind.stage_days[0] - 1).all(), name


def test_a_kind_s_rate_heterogeneity_is_the_spread_asked():
    """Visits are a Gamma-mixed Poisson process: the variance of visit counts grows with the
    heterogeneity (the CV of the rates), the mean does not."""
    spread = {}
    for heterogeneity in (0.2, 1.0):
        spec = LifecycleSpec(
            "spread", 20_000, {"habitual_buyer": 1.0}, heterogeneity=heterogeneity, seed=3
        )
        sessions = per_user_features(simulate_lifecycles(spec))["n_sessions"].to_numpy()
        spread[heterogeneity] = (sessions.mean(), sessions.std() / sessions.mean())
    (mean_low, cv_low), (mean_high, cv_high) = spread[0.2], spread[1.0]
    assert mean_high == pytest.approx(mean_low, rel=0.1)
    assert cv_high > 2 * cv_low


def test_the_calendar_makes_weekends_busier():
    events = simulate_lifecycles(LifecycleSpec("calendar", 20_000, ALL_KINDS, seed=5))
    first_events = np.r_[True, np.diff(events.session) != 0]  # a visit's events are together

    def weekday(seconds: np.ndarray) -> np.ndarray:
        return ((seconds // DAY).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)

    visits = np.bincount(weekday(events.time[first_events]), minlength=7)
    days = np.bincount(
        weekday(np.arange(*(t.timestamp() for t in events.window), DAY)), minlength=7
    )
    per_day = visits / days
    assert per_day[5:].mean() > 1.2 * per_day[:5].mean()


def test_the_suite_spans_the_sizes_and_kinds_the_issue_asks():
    sizes = [s.customers for s in LIFECYCLE_SUITE]
    kinds = [len(s.mix) for s in LIFECYCLE_SUITE]
    assert min(sizes) <= 5_000 and max(sizes) >= 500_000
    assert min(kinds) >= 9 and max(kinds) <= 12
    assert len({s.heterogeneity for s in LIFECYCLE_SUITE}) >= 3
