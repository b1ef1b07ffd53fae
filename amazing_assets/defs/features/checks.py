"""Checks on user_features_rfm."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from amazing_assets.defs.features.features import FEATURE_COLUMNS
from amazing_assets.lib.checks import complete_window_result, complete_window_spec, result, spec
from amazing_assets.lib.quality import QualityResource

FEATURES = "user_features_rfm"
UNIT_INTERVAL = (
    "view_to_cart_rate",
    "cart_to_purchase_rate",
    "share_night",
    "share_morning",
    "share_afternoon",
    "share_evening",
    "share_weekend",
)

FEATURE_CHECK_SPECS = [
    spec("one_row_per_customer", FEATURES, "no customer twice in a month"),
    spec("finite_values", FEATURES, "no null, NaN or infinite feature"),
    spec("rates_in_unit_interval", FEATURES, "rates and shares within [0, 1]"),
    spec("monetary_non_negative", FEATURES, "spend and order values are ≥ 0"),
    spec("customers_match_clean_events", FEATURES, "one row per customer seen in the window"),
    spec("purchaser_share_drift", FEATURES, "purchaser share close to last month's (warning)"),
    complete_window_spec(FEATURES),
]


def feature_statistics(features: DataFrame) -> dict[str, dict]:
    """Per month: rows, distinct customers, bad values, purchasers (one aggregation)."""
    not_finite = [
        F.col(c).isNull() | F.isnan(c) | (F.abs(F.col(c)) == float("inf")) for c in FEATURE_COLUMNS
    ]
    outside_unit = [(F.col(c) < 0) | (F.col(c) > 1) for c in UNIT_INTERVAL]
    any_of = lambda conditions: F.greatest(*[c.cast("int") for c in conditions])  # noqa: E731
    rows = features.groupBy("month").agg(
        F.count("*").alias("rows"),
        F.countDistinct("user_key").alias("customers"),
        F.sum(any_of(not_finite)).alias("not_finite"),
        F.sum(any_of(outside_unit)).alias("outside_unit"),
        F.sum(((F.col("monetary") < 0) | (F.col("avg_order_value") < 0)).cast("int")).alias(
            "negative_money"
        ),
        F.sum((F.col("frequency") > 0).cast("int")).alias("purchasers"),
    )
    return {r["month"]: r.asDict() for r in rows.collect()}


def window_customers(counts: DataFrame, months: list[str]) -> dict[str, int]:
    """Distinct customers in each as-of month's trailing window of clean events, from per-task
    counts over whole customers (``customers_per_as_of``): a reading of clean_events of its own,
    apart from the aggregation the features come from."""
    summed = counts.groupBy("as_of").agg(F.sum("customers").alias("customers")).collect()
    totals = {r["as_of"]: r["customers"] for r in summed}
    return {m: int(totals.get(m, 0)) for m in months}


def feature_results(
    stats: dict[str, dict],
    expected_customers: dict[str, int],
    previous_purchaser_share: dict[str, float | None],
    window_gaps: dict[str, list[str]],
    quality: QualityResource,
) -> list[dg.AssetCheckResult]:
    """``window_gaps``: per as-of month, the window months without clean events."""
    months = sorted(expected_customers)
    get = lambda m, k: (stats.get(m) or {}).get(k) or 0  # noqa: E731
    share = {m: get(m, "purchasers") / get(m, "rows") if get(m, "rows") else 0.0 for m in months}
    change = {
        m: None if (previous := previous_purchaser_share.get(m)) is None else share[m] - previous
        for m in months
    }
    drifting = {
        m: c
        for m, c in change.items()
        if c is not None and abs(c) > quality.max_purchaser_share_change
    }
    return [
        result(
            FEATURES,
            "one_row_per_customer",
            all(get(m, "rows") == get(m, "customers") for m in months),
            {
                "rows": {m: get(m, "rows") for m in months},
                "customers": {m: get(m, "customers") for m in months},
            },
        ),
        result(
            FEATURES,
            "finite_values",
            all(get(m, "not_finite") == 0 for m in months),
            {"rows_with_bad_values": {m: get(m, "not_finite") for m in months}},
        ),
        result(
            FEATURES,
            "rates_in_unit_interval",
            all(get(m, "outside_unit") == 0 for m in months),
            {"rows_outside": {m: get(m, "outside_unit") for m in months}},
        ),
        result(
            FEATURES,
            "monetary_non_negative",
            all(get(m, "negative_money") == 0 for m in months),
            {"rows": {m: get(m, "negative_money") for m in months}},
        ),
        result(
            FEATURES,
            "customers_match_clean_events",
            all(get(m, "rows") == expected_customers[m] for m in months),
            {
                "feature_rows": {m: get(m, "rows") for m in months},
                "clean_event_customers": expected_customers,
            },
        ),
        result(
            FEATURES,
            "purchaser_share_drift",
            not drifting,
            {
                "purchaser_share": {m: round(v, 4) for m, v in share.items()},
                "change_vs_previous_month": {
                    m: None if c is None else round(c, 4) for m, c in change.items()
                },
                "threshold": quality.max_purchaser_share_change,
            },
            warn=True,
        ),
        complete_window_result(FEATURES, window_gaps),
    ]
