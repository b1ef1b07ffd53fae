"""Stable segment identity across months (issue 25): a segment is a behaviour, not a cluster index.

Every month is fitted afresh, so cluster numbers and even names can change while the behaviours
stay put. Each month's segments are therefore matched to last month's, and a matched segment keeps
last month's ``segment_id`` (and its name while the name stays true, see ``profiles.py``); an
unmatched segment gets a new id and a segment of last month left without a match is *ended*.

Matching is by **member overlap**: among the customers present in both months, the Jaccard index
of every (last month's segment, this month's segment) pair, paired one-to-one by the Hungarian
algorithm; a pair below :data:`MIN_OVERLAP` is no match. Measured against matching by centres
(RMS distance of the segments' z-profiles, in the month's standard deviations) in
``benchmarks/identity.py`` (4 populations x 3 rolling months): overlap did better where the
naming flipped (seven-cosmetics Nov→Dec: 21.7 % of steady customers changed id vs 29.7 % by
centres and 68.7 % by name), equal on few-buyers, worse where a tier's split was unstable
(steady population: 34 % vs 29 %). Overlap needs no shared feature space (each month has its own
scaler and PCA) and runs in ``kmeans_model`` before any profile exists; centres are the fallback
when too few customers are in both months (:data:`MIN_COMMON_SHARE`), e.g. after a gap.

Apart from how many customers moved, each month records how much the *definitions* moved: per
segment, the member overlap with its previous self and the shift of its centre (RMS over the
model features of the change of its z-profile), so "the segment's threshold moved" is told
apart from "customers moved".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from amazing_assets.defs.segments.modeling import MODEL_FEATURES

MIN_OVERLAP = 0.3
"""Jaccard index of members below which two segments are not the same behaviour."""
MAX_CENTRE_SHIFT = 1.0
"""Centre matching (fallback): RMS z-profile distance above which segments differ."""
MIN_COMMON_SHARE = 0.2
"""Overlap matching needs this share of this month's customers to be known last month."""
DEFINITION_MOVED = 0.25
"""A continued segment whose centre moved at least this much (RMS z) has a moved definition."""

SEGMENT_ID = "segment_id"
Z_COLUMNS: tuple[str, ...] = tuple(f"z_{f}" for f in MODEL_FEATURES)


@dataclass
class Identity:
    """This month's segment → id, how each was matched, and last month's ids that ended."""

    ids: dict[int, int]
    overlap: dict[int, float] = field(default_factory=dict)  # Jaccard with its previous self
    method: str = "first month"
    ended: list[int] = field(default_factory=list)
    new: list[int] = field(default_factory=list)  # ids created this month

    def column(self, segments: pd.Series | np.ndarray) -> np.ndarray:
        return np.asarray([self.ids[int(s)] for s in np.asarray(segments)], dtype=np.int32)


def first_ids(segments: list[int]) -> Identity:
    """Ids of a month with no previous month: the segment numbers themselves."""
    ids = {int(s): int(s) for s in segments}
    return Identity(ids, new=sorted(ids.values()))


def jaccard_table(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Last month's ids × this month's segments: Jaccard index among common customers.

    ``previous`` has ``user_key`` and ``segment_id``; ``current`` has ``user_key`` and
    ``segment``.
    """
    both = previous[["user_key", SEGMENT_ID]].merge(current[["user_key", "segment"]], on="user_key")
    counts = pd.crosstab(both[SEGMENT_ID], both["segment"])
    row = counts.sum(axis=1).to_numpy()[:, None]
    col = counts.sum(axis=0).to_numpy()[None, :]
    inter = counts.to_numpy()
    return pd.DataFrame(inter / (row + col - inter), index=counts.index, columns=counts.columns)


def _pair(score: pd.DataFrame, accept) -> dict[int, int]:
    """One-to-one pairs of (current segment → previous id) maximising ``score``, accepted ones."""
    if score.empty:
        return {}
    rows, cols = linear_sum_assignment(score.to_numpy(), maximize=True)
    return {
        int(score.columns[c]): int(score.index[r])
        for r, c in zip(rows, cols, strict=True)
        if accept(score.iat[r, c])
    }


def _finish(
    segments: list[int],
    matched: dict[int, int],
    previous_ids: list[int],
    overlap: dict[int, float],
    method: str,
) -> Identity:
    next_id = max([*previous_ids, -1]) + 1
    ids: dict[int, int] = {}
    new = []
    for segment in sorted(segments):
        if segment in matched:
            ids[segment] = matched[segment]
        else:
            ids[segment] = next_id
            new.append(next_id)
            next_id += 1
    ended = sorted(set(previous_ids) - set(matched.values()))
    return Identity(ids, overlap, method, ended, new)


def match_by_overlap(
    previous: pd.DataFrame, current: pd.DataFrame, min_overlap: float = MIN_OVERLAP
) -> Identity:
    """Ids by member overlap (see the module docstring)."""
    segments = sorted(int(s) for s in current["segment"].unique())
    previous_ids = sorted(int(i) for i in previous[SEGMENT_ID].unique())
    table = jaccard_table(previous, current)
    matched = _pair(table, lambda j: j >= min_overlap)
    overlap = {s: float(table.loc[i, s]) for s, i in matched.items()}
    return _finish(segments, matched, previous_ids, overlap, "member overlap")


def centre_shift(now: pd.DataFrame, before: pd.DataFrame) -> np.ndarray:
    """RMS distance of z-profiles: rows of ``now`` × rows of ``before`` (profiles frames)."""
    a = now[list(Z_COLUMNS)].to_numpy(dtype=float)
    b = before[list(Z_COLUMNS)].to_numpy(dtype=float)
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).mean(axis=2))


def match_by_centres(
    previous_profiles: pd.DataFrame,
    profiles: pd.DataFrame,
    max_shift: float = MAX_CENTRE_SHIFT,
) -> Identity:
    """Ids by the nearest previous segment centre (z-profiles; ``previous`` has ids)."""
    segments = [int(s) for s in profiles["segment"]]
    previous_ids = [int(i) for i in previous_profiles[SEGMENT_ID]]
    distance = pd.DataFrame(
        -centre_shift(profiles, previous_profiles).T, index=previous_ids, columns=segments
    )
    matched = _pair(distance, lambda d: -d <= max_shift)
    return _finish(segments, matched, previous_ids, {}, "centres")


def match_segments(
    previous_assignments: pd.DataFrame | None,
    assignments: pd.DataFrame,
    previous_profiles: pd.DataFrame | None = None,
    profiles: pd.DataFrame | None = None,
) -> Identity:
    """This month's ids: by member overlap when enough customers are known from last month,
    else by centres when both months' profiles are given, else fresh ids."""
    segments = sorted(int(s) for s in assignments["segment"].unique())
    if previous_assignments is None or previous_assignments.empty:
        return first_ids(segments)
    common = assignments["user_key"].isin(previous_assignments["user_key"]).mean()
    if common >= MIN_COMMON_SHARE:
        return match_by_overlap(previous_assignments, assignments)
    if previous_profiles is not None and profiles is not None and SEGMENT_ID in previous_profiles:
        return match_by_centres(previous_profiles, profiles)
    previous_ids = sorted(int(i) for i in previous_assignments[SEGMENT_ID].unique())
    return _finish(segments, {}, previous_ids, {}, "no common customers")


def definition_changes(
    profiles: pd.DataFrame, previous: pd.DataFrame | None, overlap: dict[int, int | float]
) -> pd.DataFrame:
    """Per segment of this month: its status and how much its definition moved.

    ``profiles`` and ``previous`` carry ``segment``, ``segment_id``, ``name`` and the z-profile.
    Returns ``segment``, ``identity`` (``new``/``continued``/``renamed``), ``previous_name``,
    ``centre_shift`` and ``member_overlap`` (NaN for a new segment), ``definition_moved``.
    """
    out = pd.DataFrame({"segment": profiles["segment"].to_numpy()})
    out["identity"] = "new"
    out["previous_name"] = None
    out["centre_shift"] = np.nan
    out["member_overlap"] = [overlap.get(int(s), np.nan) for s in out["segment"]]
    if previous is not None and len(previous):
        before = previous.set_index(SEGMENT_ID)
        for i, row in enumerate(profiles.itertuples()):
            sid = int(getattr(row, SEGMENT_ID))
            if sid not in before.index:
                continue
            old = before.loc[[sid]]
            out.loc[i, "previous_name"] = str(old["name"].iloc[0])
            out.loc[i, "centre_shift"] = float(centre_shift(profiles.iloc[[i]], old)[0, 0])
            out.loc[i, "identity"] = "continued" if old["name"].iloc[0] == row.name else "renamed"
    out["definition_moved"] = (out["identity"] == "renamed") | (
        out["centre_shift"].fillna(0) >= DEFINITION_MOVED
    )
    return out


def kept_names(ids: dict[int, int], previous: pd.DataFrame | None) -> dict[int, str]:
    """This month's segment → the name its identity had last month (for the naming's
    continuity bonus: the name is kept while it is still true)."""
    if previous is None or not len(previous) or SEGMENT_ID not in previous:
        return {}
    names = dict(zip(previous[SEGMENT_ID].astype(int), previous["name"].astype(str), strict=True))
    return {segment: names[sid] for segment, sid in ids.items() if sid in names}


def identity_table(identity: Identity) -> pd.DataFrame:
    """One row per segment id of the month (``segment`` -1 for an ended one): its status
    (``new``, ``continued``, ``ended``), member overlap with its previous self and the rule."""
    rows = [
        {
            "segment": segment,
            SEGMENT_ID: sid,
            "status": "new" if sid in identity.new else "continued",
            "member_overlap": identity.overlap.get(segment, np.nan),
            "method": identity.method,
        }
        for segment, sid in sorted(identity.ids.items())
    ]
    rows += [
        {"segment": -1, SEGMENT_ID: sid, "status": "ended", "member_overlap": np.nan,
         "method": identity.method}
        for sid in identity.ended
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.astype({"segment": "int32", SEGMENT_ID: "int32", "member_overlap": "float64"})


def identity_from_table(table: pd.DataFrame) -> Identity:
    """The :class:`Identity` stored by :func:`identity_table`."""
    live = table[table["status"] != "ended"]
    overlap = {
        int(r.segment): float(r.member_overlap)
        for r in live.itertuples()
        if pd.notna(r.member_overlap)
    }
    return Identity(
        ids=dict(zip(live["segment"].astype(int), live[SEGMENT_ID].astype(int), strict=True)),
        overlap=overlap,
        method=str(table["method"].iloc[0]) if len(table) else "first month",
        ended=sorted(table.loc[table["status"] == "ended", SEGMENT_ID].astype(int)),
        new=sorted(live.loc[live["status"] == "new", SEGMENT_ID].astype(int)),
    )
