"""Checks on pca_embedding, kmeans_model and cluster_profiles."""

import dagster as dg
import pandas as pd

from amazing_assets.defs.segments.profiles import fits
from amazing_assets.lib.checks import complete_window_spec, result, spec
from amazing_assets.lib.quality import QualityResource

PCA, KMEANS, PROFILES = "pca_embedding", "kmeans_model", "cluster_profiles"

PCA_CHECK_SPECS = [spec("explained_variance_floor", PCA, "PCA keeps enough of the variance")]
KMEANS_CHECK_SPECS = [
    spec("silhouette_floor", KMEANS, "segments are separated well enough"),
    spec("no_tiny_segment", KMEANS, "every segment holds a minimum share of customers (warning)"),
]
PROFILE_CHECK_SPECS = [
    spec("segments_named_uniquely", PROFILES, "every segment has a name, no name twice"),
    spec("names_true_by_definition", PROFILES, "every name holds by its written definition"),
    spec(
        "names_hold_for_members",
        PROFILES,
        "most members of each named segment are what its name says, each on their own (warning)",
    ),
    spec("shares_sum_to_one", PROFILES, "segment shares add up to 100 %"),
    spec("segment_share_drift", PROFILES, "segment shares close to last month's (warning)"),
    complete_window_spec(PROFILES),
]


def pca_results(explained: dict[str, float], quality: QualityResource) -> list[dg.AssetCheckResult]:
    return [
        result(
            PCA,
            "explained_variance_floor",
            all(v >= quality.min_explained_variance for v in explained.values()),
            {"explained_variance": explained, "floor": quality.min_explained_variance},
        )
    ]


def kmeans_results(
    silhouettes: dict[str, float], smallest_share: dict[str, float], quality: QualityResource
) -> list[dg.AssetCheckResult]:
    return [
        result(
            KMEANS,
            "silhouette_floor",
            all(v >= quality.min_silhouette for v in silhouettes.values()),
            {"silhouette": silhouettes, "floor": quality.min_silhouette},
        ),
        result(
            KMEANS,
            "no_tiny_segment",
            all(v >= quality.min_segment_share for v in smallest_share.values()),
            {"smallest_share": smallest_share, "floor": quality.min_segment_share},
            warn=True,
        ),
    ]


def profile_results(
    profiles: pd.DataFrame, previous: pd.DataFrame | None, quality: QualityResource
) -> list[dg.AssetCheckResult]:
    """``profiles`` of the run's months; ``previous``: those of the month before the first.

    A run whose months were all not segmented has no profile: each check passes with nothing
    to check, and says so (the asset's ``status`` metadata carries why).
    """
    if profiles.empty or "name" not in profiles.columns:
        return [
            result(PROFILES, name, True, {}, description="no segment this run: nothing to check")
            for name in (
                "segments_named_uniquely",
                "names_true_by_definition",
                "names_hold_for_members",
                "shares_sum_to_one",
                "segment_share_drift",
            )
        ]
    named = all(profiles.groupby("month")["name"].apply(lambda n: n.notna().all() and n.is_unique))
    sums = profiles.groupby("month")["share"].sum().round(6).to_dict()
    false = [
        f"{p['month']}: {p['name']}"
        for _, p in profiles.iterrows()
        if isinstance(p["name"], str) and not fits(p, p["name"])
    ]
    impure = {  # a neutral name's purity is NaN: never under the floor
        f"{p['month']}: {p['name']}": round(float(p["purity"]), 3)
        for _, p in profiles[profiles["purity"] < quality.min_name_purity].iterrows()
    }
    drift: dict[str, dict[str, float]] = {}
    before = previous
    for month, now in profiles.groupby("month", sort=True):
        if before is not None and len(before):
            joined = now.set_index("name")["share"].sub(
                before.set_index("name")["share"], fill_value=0
            )
            drift[month] = {
                k: round(float(v), 4)
                for k, v in joined.items()
                if abs(v) > quality.max_segment_share_change
            }
        before = now
    return [
        result(
            PROFILES,
            "segments_named_uniquely",
            named,
            {"names": {m: g["name"].tolist() for m, g in profiles.groupby("month")}},
        ),
        result(PROFILES, "names_true_by_definition", not false, {"false_names": false}),
        result(
            PROFILES,
            "names_hold_for_members",
            not impure,
            {"purity_below_floor": impure, "floor": quality.min_name_purity},
            warn=True,
        ),
        result(
            PROFILES,
            "shares_sum_to_one",
            all(abs(v - 1) < 1e-6 for v in sums.values()),
            {"share_sum": sums},
        ),
        result(
            PROFILES,
            "segment_share_drift",
            not any(drift.values()),
            {
                "shares_moving_beyond_threshold": drift,
                "threshold": quality.max_segment_share_change,
            },
            warn=True,
        ),
    ]
