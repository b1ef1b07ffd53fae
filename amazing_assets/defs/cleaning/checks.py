"""Checks on clean_events: the month's accounting, the kept share, and the kept rows' rules.

The cleaning asset computes what they read in the same pass that writes the table (the
accounting report and the violations counted on kept rows), then yields these results.
"""

import dagster as dg

from amazing_assets.lib.checks import result, spec
from amazing_assets.lib.quality import QualityResource

CLEAN = "clean_events"

CLEAN_CHECK_SPECS = [
    spec("accounting_identity", CLEAN, "raw rows = kept + dropped by each reason", blocking=True),
    spec("kept_share", CLEAN, "enough rows survive cleaning", blocking=True),
    spec("no_null_keys", CLEAN, "no null pseudonymous user or session key"),
    spec("valid_event_types", CLEAN, "event_type in view/cart/remove_from_cart/purchase"),
    spec("non_negative_prices", CLEAN, "no negative price is kept"),
    spec("no_duplicate_events", CLEAN, "no identical event kept twice"),
]


def clean_results(
    report: list[dict],
    raw_rows: dict[str, int],
    kept_stats: dict[str, int],
    quality: QualityResource,
) -> list[dg.AssetCheckResult]:
    """``report``: per-month accounting rows; ``kept_stats``: violations counted on kept rows."""
    unbalanced = [r["month"] for r in report if raw_rows.get(r["month"], 0) != r["rows_in"]]
    kept_share = {r["month"]: r["kept"] / r["rows_in"] if r["rows_in"] else 0.0 for r in report}
    low = [m for m, v in kept_share.items() if v < quality.min_kept_share]
    return [
        result(
            CLEAN,
            "accounting_identity",
            not unbalanced,
            {
                "raw_rows": raw_rows,
                "kept_plus_dropped": {r["month"]: r["rows_in"] for r in report},
                "unbalanced_months": unbalanced,
            },
            description=None if not unbalanced else f"rows lost without a reason in {unbalanced}",
        ),
        result(
            CLEAN,
            "kept_share",
            not low,
            {
                "kept_share": {m: round(v, 4) for m, v in kept_share.items()},
                "threshold": quality.min_kept_share,
                "dropped_by_reason": {r["month"]: r["dropped_by_reason"] for r in report},
            },
            description=None
            if not low
            else f"cleaning kept too few rows in {low}; see dropped_by_reason",
        ),
        result(
            CLEAN, "no_null_keys", kept_stats["null_keys"] == 0, {"rows": kept_stats["null_keys"]}
        ),
        result(
            CLEAN,
            "valid_event_types",
            kept_stats["bad_types"] == 0,
            {"rows": kept_stats["bad_types"]},
        ),
        result(
            CLEAN,
            "non_negative_prices",
            kept_stats["negative_prices"] == 0,
            {"rows": kept_stats["negative_prices"]},
        ),
        result(
            CLEAN,
            "no_duplicate_events",
            kept_stats["duplicates"] == 0,
            {"extra_copies": kept_stats["duplicates"]},
        ),
    ]
