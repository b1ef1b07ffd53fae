"""Segment migration: how customers moved between named segments from one month to the next."""

from __future__ import annotations

import pandas as pd

NEW = "(new)"
GONE = "(gone)"


def migration_matrix(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Counts of customers per (from_name, to_name).

    Both frames have ``user_key`` and ``name``. Customers absent last month come from ``(new)``;
    customers absent this month go to ``(gone)``; so every customer of either month is counted.
    """
    current = current[["user_key", "name"]]
    if previous is None or previous.empty:
        moved = current.assign(from_name=NEW).rename(columns={"name": "to_name"})
    else:
        moved = previous[["user_key", "name"]].merge(
            current, on="user_key", how="outer", suffixes=("_from", "_to")
        )
        moved = moved.rename(columns={"name_from": "from_name", "name_to": "to_name"})
        moved["from_name"] = moved["from_name"].fillna(NEW)
        moved["to_name"] = moved["to_name"].fillna(GONE)
    counts = moved.groupby(["from_name", "to_name"]).size().rename("customers").reset_index()
    return counts.sort_values(["from_name", "to_name"]).reset_index(drop=True)
