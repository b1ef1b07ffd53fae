"""How far to trust a month's segments, as tables the app reads (no Dagster, no Spark).

``kmeans_model`` computes the segmentation's quality (silhouette, per-segment bootstrap
stability, each tier's k and the rule that chose it) for its checks and metadata; the app reads
only the warehouse, so the same figures are stored as three small tables of ``kmeans_model``:

* :data:`QUALITY`: one row per month (k, silhouette, tier agreement, stability summary);
* :data:`QUALITY_TIERS`: one row per tier (customers, k, the rule and its reason);
* :data:`QUALITY_SEGMENTS`: one row per segment (share of customers, bootstrap stability).

The words the app puts on the numbers use published bands, written here once:

* silhouette (Kaufman & Rousseeuw 1990): > 0.70 strong structure, > 0.50 reasonable, > 0.25
  weak, else no substantial structure (segments then cut a continuum into bands);
* bootstrap Jaccard of a segment (Hennig 2007, ``fpc::clusterboot``): ≥ 0.75 stable (found
  again on resampled customers), ≥ 0.5 a pattern worth reading with care, below it dissolved.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from amazing_assets.defs.segments.modeling import TIER_NAMES, SelectionResult

QUALITY = "quality"
QUALITY_TIERS = "quality_tiers"
QUALITY_SEGMENTS = "quality_segments"

SILHOUETTE_BANDS: tuple[tuple[float, str], ...] = (
    (0.70, "strong"),
    (0.50, "reasonable"),
    (0.25, "weak"),
    (-1.0, "none"),
)
"""(lower bound, band) from the highest: Kaufman & Rousseeuw's reading of a mean silhouette."""
STABLE_JACCARD = 0.75
DISSOLVED_JACCARD = 0.5


def silhouette_band(silhouette: float) -> str:
    """``strong``, ``reasonable``, ``weak`` or ``none`` (see the module docstring)."""
    return next(band for floor, band in SILHOUETTE_BANDS if silhouette > floor or floor == -1.0)


def stability_band(jaccard: float) -> str:
    """``stable``, ``pattern`` or ``dissolved`` for a segment's mean bootstrap Jaccard."""
    if jaccard >= STABLE_JACCARD:
        return "stable"
    return "pattern" if jaccard >= DISSOLVED_JACCARD else "dissolved"


def segmentation_quality(
    selection: SelectionResult,
    labels: np.ndarray,
    stability: Mapping[int, float],
    silhouette: float,
    tier_agreement: float,
    segment_ids: Mapping[int, int] | None = None,
) -> dict[str, pd.DataFrame]:
    """The month's quality tables (without ``month``: the IO manager adds it).

    ``stability`` is segment → mean bootstrap Jaccard (``modeling.bootstrap_stability``);
    ``segment_ids`` segment → identity across months (``identity.py``), the segment itself
    when missing. ``stable_share`` is the share of customers in stable segments: what part of
    the base a campaign can address with segments that are found again."""
    # The segments fitted: fewer than the selection's k when twins were merged (chain.py).
    k = len(stability) or selection.k
    shares = np.bincount(labels, minlength=k) / max(len(labels), 1)
    jaccard = np.array([float(stability.get(c, np.nan)) for c in range(k)])
    ids = segment_ids or {}
    segments = pd.DataFrame(
        {
            "segment": np.arange(k, dtype="int32"),
            "segment_id": np.array([int(ids.get(c, c)) for c in range(k)], dtype="int32"),
            "share": shares,
            "stability": jaccard,
            "stability_band": [stability_band(j) for j in jaccard],
        }
    )
    tiers = pd.DataFrame(
        [
            {
                "tier": TIER_NAMES[t.tier],
                "customers": int(t.customers),
                "k": int(t.k),
                "rule": t.rule,
                "reason": t.reason,
                "selection_stability": chosen_stability(t.scores, t.k),
            }
            for t in selection.tiers
        ],
        columns=["tier", "customers", "k", "rule", "reason", "selection_stability"],
    )
    stable = jaccard >= STABLE_JACCARD
    summary = pd.DataFrame(
        [
            {
                "customers": len(labels),
                "k": int(k),
                "silhouette": float(silhouette),
                "silhouette_band": silhouette_band(silhouette),
                "tier_agreement": float(tier_agreement),
                "min_stability": float(np.nanmin(jaccard)) if k else np.nan,
                "mean_stability": float(np.nanmean(jaccard)) if k else np.nan,
                "stable_segments": int(stable.sum()),
                "stable_share": float(shares[stable].sum()),
                "min_segment_share": float(shares.min()) if k else np.nan,
            }
        ]
    )
    return {QUALITY: summary, QUALITY_TIERS: tiers, QUALITY_SEGMENTS: segments}


def chosen_stability(scores: pd.DataFrame, k: int) -> float:
    """The bootstrap ARI of the chosen k when k was selected among candidates, else NaN."""
    if scores.empty or "stability" not in scores:
        return float("nan")
    row = scores[scores["k"] == k]
    return float(row["stability"].iloc[0]) if len(row) else float("nan")


def empty_quality_tables() -> dict[str, pd.DataFrame]:
    """The quality tables with no row: a re-run of a month segmented before, now not segmented,
    leaves no stale quality behind (text columns untyped: the IO manager drops them)."""
    number, count = pd.Series(dtype="float64"), pd.Series(dtype="int64")
    return {
        QUALITY: pd.DataFrame({"customers": count, "k": count, "silhouette": number}),
        QUALITY_TIERS: pd.DataFrame({"customers": count, "k": count}),
        QUALITY_SEGMENTS: pd.DataFrame(
            {"segment": pd.Series(dtype="int32"), "share": number, "stability": number}
        ),
    }
