"""The "Did it work?" page in words: one verdict sentence per export, and its figures table.

Pure (no Panel): reads one row of ``action_outcomes`` and says what it means, never more. A
``not_measurable`` or ``waiting`` export gets no difference at all, only why and what it needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from panel_app.i18n import format_money, format_number, format_percent, label


def signed(value: float, language: str, decimals: int = 1) -> str:
    """``+2,1`` / ``−0,4`` (a real minus sign), in the language's number format."""
    sign = "+" if value >= 0 else "−"
    return f"{sign}{format_number(abs(value), language, decimals)}"


def signed_money(value: float, language: str) -> str:
    return ("+" if value >= 0 else "−") + format_money(abs(value), language)


def verdict_sentence(row: Mapping[str, object], language: str) -> str:
    """What the export shows, in one sentence (status first: waiting, not measurable)."""
    status = row["status"]
    if status == "waiting":
        return label("verdict_waiting", language).format(month=row["outcome_month"])
    if status == "not_measurable":
        return label("verdict_not_measurable", language).format(
            controls=format_number(float(row["controls"]), language),  # type: ignore[arg-type]
            needed=format_number(float(row["controls_needed"]), language),  # type: ignore[arg-type]
        )
    return label("verdict_measured", language).format(
        diff=signed(100 * float(row["purchase_rate_diff"]), language),  # type: ignore[arg-type]
        low=signed(100 * float(row["purchase_rate_low"]), language),  # type: ignore[arg-type]
        high=signed(100 * float(row["purchase_rate_high"]), language),  # type: ignore[arg-type]
        verdict=label(f"verdict_{row['verdict']}", language),
    )


def incremental_sentence(row: Mapping[str, object], language: str) -> str | None:
    """The incremental revenue with its interval, for a measured export only."""
    if row["status"] != "measured":
        return None
    value, low, high = (
        float(row[c])  # type: ignore[arg-type]
        for c in ("incremental_revenue", "incremental_revenue_low", "incremental_revenue_high")
    )
    return label("incremental_sentence", language).format(
        value=signed_money(value, language),
        low=signed_money(low, language),
        high=signed_money(high, language),
    )


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def figures_table(row: Mapping[str, object], language: str) -> pd.DataFrame:
    """Target, control, difference and interval per figure; the last two empty unless the
    export was measured."""
    measured = row["status"] == "measured"

    def rate(v: object) -> str:
        return format_percent(float(v), language) if _present(v) else "—"  # type: ignore[arg-type]

    def per_customer(v: object, money: bool) -> str:
        if not _present(v):
            return "—"
        number = float(v)  # type: ignore[arg-type]
        return format_money(number, language) if money else format_number(number, language, 3)

    def interval(low: str, high: str, scale: float, money: bool = False) -> str:
        if not measured:
            return ""
        lo, hi = float(row[low]) * scale, float(row[high]) * scale  # type: ignore[arg-type]
        if money:
            return f"{signed_money(lo, language)} … {signed_money(hi, language)}"
        decimals = 3 if scale == 1 else 1
        return f"{signed(lo, language, decimals)} … {signed(hi, language, decimals)}"

    def difference(column: str, scale: float, money: bool = False) -> str:
        if not measured:
            return ""
        value = float(row[column]) * scale  # type: ignore[arg-type]
        if money:
            return signed_money(value, language)
        return signed(value, language, 3 if scale == 1 else 1) + (" pts" if scale == 100 else "")

    t = {k: label(k, language) for k in ("target", "control", "difference", "interval")}
    size = "size"
    return pd.DataFrame(
        [
            {
                "": label(size, language),
                t["target"]: format_number(float(row["targets"]), language),  # type: ignore[arg-type]
                t["control"]: format_number(float(row["controls"]), language),  # type: ignore[arg-type]
                t["difference"]: "",
                t["interval"]: "",
            },
            {
                "": label("purchase_rate", language),
                t["target"]: rate(row["target_purchase_rate"]),
                t["control"]: rate(row["control_purchase_rate"]),
                t["difference"]: difference("purchase_rate_diff", 100),
                t["interval"]: interval("purchase_rate_low", "purchase_rate_high", 100),
            },
            {
                "": label("orders_per_customer", language),
                t["target"]: per_customer(row["target_orders_per_customer"], False),
                t["control"]: per_customer(row["control_orders_per_customer"], False),
                t["difference"]: difference("orders_diff", 1),
                t["interval"]: interval("orders_low", "orders_high", 1),
            },
            {
                "": label("revenue_per_customer", language),
                t["target"]: per_customer(row["target_revenue_per_customer"], True),
                t["control"]: per_customer(row["control_revenue_per_customer"], True),
                t["difference"]: difference("revenue_diff", 1, money=True),
                t["interval"]: interval("revenue_low", "revenue_high", 1, money=True),
            },
        ]
    )
