"""Migration by segment identity (issue 25): who changed segment, apart from renamed segments.

A customer *moved* only when their ``segment_id`` changed. A segment that kept its id while its
name changed (its profile crossed a naming threshold) is a change of definition: its customers
are counted as ``renamed``, never as moving.
"""

from __future__ import annotations

import pandas as pd

from amazing_assets.defs.segments.identity import SEGMENT_ID
from amazing_assets.defs.segments.migration import GONE, NEW

NO_SEGMENT = -1
FLOWS = ("stayed", "renamed", "moved", "new", "gone")


def labelled_assignments(assignments: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """``user_key``, ``segment_id``, ``name`` of a month (ids default to the segment number for
    months stored before segments had an identity)."""
    frame = assignments.copy()
    if SEGMENT_ID not in frame or frame[SEGMENT_ID].isna().all():
        frame[SEGMENT_ID] = frame["segment"]
    names = profiles[["segment", "name"]]
    return frame.merge(names, on="segment")[["user_key", SEGMENT_ID, "name"]]


def identity_flows(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Customers per (from, to) segment with ``from_name``, ``to_name``, ``from_segment_id``,
    ``to_segment_id``, ``customers``, ``flow`` (one of :data:`FLOWS`) and ``moved``.

    Customers absent last month come from ``(new)``, customers absent this month go to
    ``(gone)`` (id -1), so every customer of either month is counted once.
    """
    cols = ["user_key", SEGMENT_ID, "name"]
    if previous is None or previous.empty:
        both = current[cols].rename(columns={SEGMENT_ID: "to_segment_id", "name": "to_name"})
        both["from_segment_id"], both["from_name"] = NO_SEGMENT, NEW
    else:
        both = previous[cols].merge(
            current[cols], on="user_key", how="outer", suffixes=("_f", "_t")
        )
        both = both.rename(
            columns={
                f"{SEGMENT_ID}_f": "from_segment_id",
                f"{SEGMENT_ID}_t": "to_segment_id",
                "name_f": "from_name",
                "name_t": "to_name",
            }
        )
        both["from_name"] = both["from_name"].fillna(NEW)
        both["to_name"] = both["to_name"].fillna(GONE)
        both["from_segment_id"] = both["from_segment_id"].fillna(NO_SEGMENT)
        both["to_segment_id"] = both["to_segment_id"].fillna(NO_SEGMENT)
    keys = ["from_segment_id", "to_segment_id", "from_name", "to_name"]
    counts = both.groupby(keys).size().rename("customers").reset_index()
    counts = counts.astype({"from_segment_id": "int32", "to_segment_id": "int32"})
    same = counts["from_segment_id"] == counts["to_segment_id"]
    counts["flow"] = "moved"
    counts.loc[same, "flow"] = "stayed"
    counts.loc[same & (counts["from_name"] != counts["to_name"]), "flow"] = "renamed"
    counts.loc[counts["from_name"] == NEW, "flow"] = "new"
    counts.loc[counts["to_name"] == GONE, "flow"] = "gone"
    counts["moved"] = counts["flow"] == "moved"
    ordered = ["from_name", "to_name", "customers", "from_segment_id", "to_segment_id"]
    return (
        counts[[*ordered, "flow", "moved"]]
        .sort_values(["from_name", "to_name"])
        .reset_index(drop=True)
    )


def moved_share(flows: pd.DataFrame) -> float:
    """Share of last month's customers still present who changed segment identity."""
    present = flows[flows["flow"].isin(["stayed", "renamed", "moved"])]
    total = int(present["customers"].sum())
    return float(present.loc[present["moved"], "customers"].sum() / total) if total else 0.0
