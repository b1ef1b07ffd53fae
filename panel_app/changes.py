"""One sentence per segment on what changed since the previous month (the overview's digest).

Segments are matched across months by their identity (``segment_id``, issue 25) when both months
carry it, else by name. A segment that kept its id under a new name is told as a definition
change ("formerly X: the threshold moved"), never as a new segment with customers moving in.
"""

from __future__ import annotations

import math

import pandas as pd

from panel_app.i18n import format_number, format_percent, label, localized


def _points(change: float, language: str) -> str:
    """A change of shares in percentage points (``+2,1 pts``)."""
    sign = "+" if change >= 0 else "−"
    return f"{sign}{format_number(abs(100 * change), language, 1)} pts"


def _relative(now: float, before: float, language: str) -> str:
    if before == 0:
        return "+∞" if now else "—"
    change = (now - before) / before
    sign = "+" if change >= 0 else "−"
    return f"{sign}{format_percent(abs(change), language)}"


def segment_changes(
    history: pd.DataFrame,
    month: str,
    previous: str | None,
    language: str,
    compare_sizes: bool = True,
):
    """``(name, sentence)`` per segment of ``month``, biggest first.

    ``history`` has one row per (month, segment) with ``name``, ``name_fr``, ``size``,
    ``revenue_share`` and, when modelled, ``churn_risk``. ``compare_sizes=False`` while either
    month's feature window is still filling up: a segment then grows because the window holds
    one more month, not because customers joined it, so no growth is shown.
    """
    now = history[history["month"] == month].sort_values("size", ascending=False)
    earlier = history[history["month"] == previous] if previous else pd.DataFrame()
    key = "segment_id" if _has_ids(now) and _has_ids(earlier) else "name"
    before = earlier.set_index(key, drop=False) if len(earlier) else pd.DataFrame()
    out = []
    for row in now.to_dict("records"):
        name = localized(row, "name", language)
        size = format_number(row["size"], language)
        share = format_percent(row["revenue_share"], language)
        parts = [f"{size} {label('customers_lower', language)}"]
        if row[key] in before.index:
            old = before.loc[row[key]]
            if compare_sizes:
                parts[0] += f" ({_relative(row['size'], old['size'], language)})"
            parts.append(
                f"{share} {label('of_revenue', language)} "
                f"({_points(row['revenue_share'] - old['revenue_share'], language)})"
            )
            if old["name"] != row["name"]:
                old_name = localized(old.to_dict(), "name", language)
                parts.append(label("segment_renamed", language).format(name=old_name))
            elif row.get("definition_moved") is True:
                parts.append(label("segment_definition_moved", language))
        else:
            parts.append(f"{share} {label('of_revenue', language)}")
            if previous:
                parts.append(label("segment_new", language))
        churn = row.get("churn_risk")
        if churn is not None and isinstance(churn, float) and math.isfinite(churn):
            parts.append(
                f"{label('churn_risk', language).lower()} {format_percent(churn, language, 0)}"
            )
        prefix = f"{name} : " if language == "fr" else f"{name}: "
        out.append((name, prefix + ", ".join(parts) + "."))
    return out


def _has_ids(frame: pd.DataFrame) -> bool:
    return len(frame) > 0 and "segment_id" in frame and bool(frame["segment_id"].notna().all())
