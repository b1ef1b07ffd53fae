"""Segment identity on three months of the independent generator's customers (issue 25).

Runs the modelling as the pipeline does (``segment_month``) on rolling three-month windows of
the same customers and checks what identity guarantees: the clustering, hence the ARI against
the planted behaviours, is exactly today's; every continued id is a real overlap; and the
migration counts as moved exactly the customers whose id changed. The month-over-month shares
themselves are measured by ``benchmarks/identity.py`` (see its table).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from amazing_assets.defs.segments.chain import segment_month
from amazing_assets.defs.segments.identity import MIN_OVERLAP, SEGMENT_ID
from amazing_assets.defs.segments.identity_migration import identity_flows, moved_share
from amazing_assets.defs.segments.modeling import ModelingConfig
from amazing_assets.defs.segments.tracking import identify
from amazing_assets_tests.support.population_months import MONTHLY_SUITE, simulate_months

pytestmark = pytest.mark.slow  # three fits per seed: minutes on a loaded 2-core machine

FAST = ModelingConfig(selection_sample=4_000, score_sample=2_000, selection_rounds=2, n_init=2)


@pytest.mark.parametrize("seed", [3, 4])
def test_identity_keeps_the_fit_and_counts_only_id_changes_as_moves(seed):
    spec = replace(
        next(s for s in MONTHLY_SUITE if s.name == "buyer-heavy"), customers=3_000, seed=seed
    )
    months = simulate_months(spec)
    assert [m for m, _ in months] == ["2019-10", "2019-11", "2019-12"]
    # The same customers, seen again: most of November's were known in October.
    assert months[1][1]["user_key"].isin(months[0][1]["user_key"]).mean() > 0.8
    previous = today = None
    for _, features in months:
        fitted = segment_month(features, FAST, today.profiles if today else None)
        tracked = identify(features, fitted.labels, previous)
        ids = tracked.assignments[SEGMENT_ID].to_numpy()
        truth = features["behaviour"]
        # Identity relabels, never reassigns: ARI is today's.
        assert adjusted_rand_score(truth, ids) == pytest.approx(
            adjusted_rand_score(truth, fitted.labels)
        )
        assert tracked.profiles[SEGMENT_ID].is_unique
        continued = tracked.profiles[tracked.profiles["identity"] != "new"]
        assert (continued["member_overlap"] >= MIN_OVERLAP).all()
        if previous is not None:
            named = tracked.assignments.merge(tracked.profiles[["segment", "name"]], on="segment")
            before = previous.assignments.merge(
                previous.profiles[["segment", "name"]], on="segment"
            )
            flows = identity_flows(before, named)
            both = before.merge(named, on="user_key", suffixes=("_b", "_a"))
            changed = both[f"{SEGMENT_ID}_b"] != both[f"{SEGMENT_ID}_a"]
            assert flows.loc[flows["moved"], "customers"].sum() == changed.sum()
            assert moved_share(flows) == pytest.approx(changed.mean())
            renamed = flows[flows["flow"] == "renamed"]
            assert not renamed["moved"].any()
        previous, today = tracked, fitted
    assert (
        isinstance(previous.profiles, pd.DataFrame)
        and np.isfinite(previous.profiles["centre_shift"].dropna()).all()
    )
