"""Segment identity across months and migration by identity (issue 25), pure logic."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from amazing_assets.defs.segments.identity import (
    SEGMENT_ID,
    definition_changes,
    first_ids,
    identity_from_table,
    identity_table,
    kept_names,
    match_by_centres,
    match_by_overlap,
    match_segments,
)
from amazing_assets.defs.segments.identity_migration import identity_flows, moved_share
from amazing_assets.defs.segments.migration import GONE, NEW, migration_matrix
from amazing_assets.defs.segments.modeling import MODEL_FEATURES


def month(labels, ids=None, offset=0) -> pd.DataFrame:
    keys = [str(i + offset) for i in range(len(labels))]
    frame = pd.DataFrame({"user_key": keys, "segment": np.asarray(labels, dtype=int)})
    if ids is not None:
        frame[SEGMENT_ID] = np.asarray(ids, dtype=int)
    return frame


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(5, 40), min_size=2, max_size=7),
    seed=st.integers(0, 10_000),
)
def test_renumbered_clusters_keep_their_ids(sizes, seed):
    """The same members under other cluster numbers: every id is kept, no customer moved."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    before = month(labels, ids=labels + 10)
    permutation = rng.permutation(len(sizes))
    after = month(permutation[labels])
    identity = match_by_overlap(before, after)
    assert identity.new == [] and identity.ended == []
    assert {s: identity.ids[int(permutation[c])] for c, s in enumerate(range(len(sizes)))} == {
        c: c + 10 for c in range(len(sizes))
    }
    after[SEGMENT_ID] = identity.column(after["segment"])
    assert (before[SEGMENT_ID] == after[SEGMENT_ID]).all()


def test_a_split_keeps_the_id_for_the_larger_part_and_a_vanished_segment_ends():
    before = month([0] * 60 + [1] * 40 + [2] * 30, ids=[0] * 60 + [1] * 40 + [2] * 30)
    # segment 0 splits 45/15, segment 1 stays, segment 2's customers join segment 1
    after = month([5] * 45 + [7] * 15 + [3] * 40 + [3] * 30)
    identity = match_by_overlap(before, after)
    assert identity.ids[5] == 0 and identity.ids[3] == 1
    assert identity.ids[7] == 3 and identity.new == [3]  # a new id, never a reused one
    assert identity.ended == [2]
    restored = identity_from_table(identity_table(identity))
    assert (restored.ids, restored.ended, restored.new) == (identity.ids, [2], [3])


def test_without_common_customers_ids_come_from_centres_or_are_new():
    before = month([0, 1] * 20, ids=[4, 9] * 20)
    after = month([0, 1] * 20, offset=1_000)  # nobody known last month
    fresh = match_segments(before, after)
    assert sorted(fresh.ids.values()) == [10, 11] and fresh.ended == [4, 9]
    z = {f"z_{f}": [1.0, -1.0] for f in MODEL_FEATURES}
    prev_profiles = pd.DataFrame({"segment": [0, 1], SEGMENT_ID: [4, 9], **z})
    swapped = {f"z_{f}": [-0.9, 1.1] for f in MODEL_FEATURES}
    profiles = pd.DataFrame({"segment": [0, 1], **swapped})
    by_centres = match_segments(before, after, prev_profiles, profiles)
    assert by_centres.method == "centres" and by_centres.ids == {0: 9, 1: 4}
    assert match_by_centres(prev_profiles, profiles.assign(**dict.fromkeys(z, 5.0))).new == [10, 11]


def test_first_month_ids_are_the_segment_numbers():
    assert first_ids([0, 1, 2]).ids == {0: 0, 1: 1, 2: 2}
    assert match_segments(None, month([0, 1, 1])).ids == {0: 0, 1: 1}


def names_frame(ids, names):
    return pd.DataFrame({"segment": range(len(ids)), SEGMENT_ID: ids, "name": names})


def test_a_renamed_segment_is_a_definition_change_not_a_move():
    """October's "Occasional browsers" is November's "Browsers, low activity", same members:
    the old migration counted every one of them as moving, the identity migration none."""
    users = [str(i) for i in range(10)]
    october = pd.DataFrame(
        {"user_key": users, SEGMENT_ID: [0] * 6 + [1] * 4,
         "name": ["Occasional browsers"] * 6 + ["Champions"] * 4}
    )  # fmt: skip
    november = october.assign(name=["Browsers, low activity"] * 6 + ["Champions"] * 4)
    old = migration_matrix(october, november)
    moved_by_name = old.loc[old["from_name"] != old["to_name"], "customers"].sum()
    assert moved_by_name == 6  # what segment_migration reported before issue 25
    flows = identity_flows(october, november)
    assert moved_share(flows) == 0.0
    renamed = flows[flows["flow"] == "renamed"]
    assert renamed[["from_name", "to_name", "customers"]].values.tolist() == [
        ["Occasional browsers", "Browsers, low activity", 6]
    ]
    # A real move: two Champions become browsers (id 0).
    december = november.copy()
    december.loc[[6, 7], [SEGMENT_ID, "name"]] = [0, "Browsers, low activity"]
    december = december.drop(index=9)  # and one customer is gone
    flows = identity_flows(november, december)
    assert flows.loc[flows["moved"], "customers"].sum() == 2
    assert flows.loc[flows["flow"] == "gone", "to_name"].tolist() == [GONE]
    assert moved_share(flows) == 2 / 9
    first = identity_flows(None, december)
    assert set(first["flow"]) == {"new"} and set(first["from_name"]) == {NEW}


def test_names_follow_identity_and_changes_are_recorded():
    z = {f"z_{f}": [0.0, 1.0] for f in MODEL_FEATURES}
    previous = pd.DataFrame(
        {"segment": [0, 1], SEGMENT_ID: [3, 8], "name": ["Champions", "Dormant"], **z}
    )
    assert kept_names({1: 3, 0: 8, 2: 12}, previous) == {1: "Champions", 0: "Dormant"}
    moved = {f"z_{f}": [1.0, 0.5] for f in MODEL_FEATURES}
    now = pd.DataFrame(
        {"segment": [0, 1, 2], SEGMENT_ID: [8, 3, 12],
         "name": ["Dormant", "Loyal customers", "Window shoppers"],
         **{k: [*v, 0.0] for k, v in moved.items()}}
    )  # fmt: skip
    changes = definition_changes(now, previous, {0: 0.9, 1: 0.7}).set_index("segment")
    assert changes["identity"].tolist() == ["continued", "renamed", "new"]
    assert changes.loc[1, "previous_name"] == "Champions"
    assert changes.loc[0, "centre_shift"] == 0.0 and changes.loc[1, "centre_shift"] == 0.5
    assert changes["definition_moved"].tolist() == [False, True, False]
    assert np.isnan(changes.loc[2, "member_overlap"]) and changes.loc[0, "member_overlap"] == 0.9


def test_the_app_tells_a_renamed_segment_apart_from_customers_moving():
    from panel_app.changes import segment_changes
    from panel_app.i18n import label
    from panel_app.pages.migration import identity_summary

    users = [str(i) for i in range(10)]
    october = pd.DataFrame(
        {"user_key": users, SEGMENT_ID: [0] * 6 + [1] * 4,
         "name": ["Occasional browsers"] * 6 + ["Champions"] * 4}
    )  # fmt: skip
    november = october.assign(name=["Browsers, low activity"] * 6 + ["Champions"] * 4)
    november.loc[9, [SEGMENT_ID, "name"]] = [0, "Browsers, low activity"]
    flows = identity_flows(october, november)
    lines = identity_summary(flows, lambda k: label(k, "en"), lambda n: n, "en")
    assert lines[0] == "1 of 10 customers (10.0%) changed segment."
    assert lines[1].startswith("“Occasional browsers” is now “Browsers, low activity”")
    assert "its 6 customers did not change segment" in lines[1]
    history = pd.DataFrame(
        {
            "month": ["2019-10", "2019-10", "2019-11", "2019-11"],
            "segment": [0, 1, 3, 0],
            SEGMENT_ID: [0, 1, 0, 1],
            "name": ["Occasional browsers", "Champions", "Browsers, low activity", "Champions"],
            "name_fr": ["Visiteurs occasionnels", "Champions", "Visiteurs, activité faible",
                        "Champions"],
            "size": [6, 4, 6, 4],
            "revenue_share": [0.0, 1.0, 0.0, 1.0],
            "definition_moved": [False, False, True, False],
        }
    )  # fmt: skip
    sentences = dict(segment_changes(history, "2019-11", "2019-10", "en"))
    browsers = sentences["Browsers, low activity"]
    assert "formerly “Occasional browsers”" in browsers and "new segment" not in browsers
    assert "(+0.0%)" in browsers
    french = dict(segment_changes(history, "2019-11", "2019-10", "fr"))
    assert "anciennement « Visiteurs occasionnels »" in french["Visiteurs, activité faible"]
