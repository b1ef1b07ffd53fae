"""Segments at marketing resolution (issue 26): split a named segment whose members need other
actions than its name's.

The choice of k reads geometry (stability, silhouette, the elbow); it cannot know that a
"Champions" segment whose half ordered once needs two actions (VIP perks, a second-order
incentive). The name's definition knows: its member rule (``profiles.MEMBER_RULES``) says which
members are what the name says, each on their own. A named segment whose **purity** (that
share) is under the floor is split in two: the members who fit and those who do not each get a
centre (their mean in the embedding), every customer goes to the nearest centre again (one more
K-Means assignment), and the segments are named afresh. The split is kept only if it lowers
the number of customers who would get an action meant for others (:func:`misdirected`) by at
least :data:`MIN_SPLIT_SHARE` of the customers, and each half holds at least as many; splits
repeat (the least pure segment first) while one is kept, up to
:attr:`~.ModelingConfig.max_segments`.

Everything is decided on the fitting sample (``ModelingConfig.fit_sample`` customers), so the
cost does not grow with the month; the result is a set of centres, hence still a plain
nearest-centre model for the stored pipeline and the real-time predictor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from amazing_assets.defs.segments.modeling import (
    ModelingConfig,
    canonical_order,
    kmeans_from_centres,
    sample_rows,
)
from amazing_assets.defs.segments.profiles import (
    MEMBER_RULES,
    MIN_NAME_PURITY,
    BuyerMedians,
    member_flags,
    name_purity,
    name_segments,
    profile_segments,
)

MIN_SPLIT_SHARE = 0.01
"""Each half of a split holds at least this share of the (sampled) customers: a smaller one is
below what a campaign addresses, and below the segments' own minimum share."""


@dataclass(frozen=True)
class Split:
    """One kept split: the segment's name, its purity before and its halves' after."""

    name: str
    purity: float
    halves: tuple[float, float]

    def reason(self) -> str:
        return (
            f"'{self.name}' split for its actions (purity {self.purity:.2f} → "
            f"{self.halves[0]:.2f} and {self.halves[1]:.2f})"
        )


def names_and_purity(
    features: pd.DataFrame, labels: np.ndarray
) -> tuple[dict[int, str], pd.Series]:
    """Each segment's name (as the month would name it) and its purity."""
    names = name_segments(profile_segments(features, labels))
    return names, name_purity(features, labels, names)


def misdirected(labels: np.ndarray, purity: pd.Series) -> float:
    """Customers who would get an action meant for others: in each named segment, the members
    its name is not true of (neutral names claim nothing)."""
    sizes = pd.Series(np.bincount(labels, minlength=len(purity)), index=range(len(purity)))
    named = purity.dropna()
    return float((sizes.reindex(named.index) * (1 - named)).sum())


def split_for_actions(
    kmeans: KMeans,
    Z: np.ndarray,
    features: pd.DataFrame,
    config: ModelingConfig,
    floor: float = MIN_NAME_PURITY,
) -> tuple[KMeans, list[Split]]:
    """``kmeans`` with impure named segments split (module docstring), and the splits kept.

    ``floor`` only picks the candidates; a kept split must lower :func:`misdirected`."""
    rows = sample_rows(len(Z), config.fit_sample, config.seed + 5)
    Zs = Z[rows]
    sample = features.iloc[rows].reset_index(drop=True)
    flags, month = member_flags(sample), BuyerMedians.of(sample)
    minimum = max(int(MIN_SPLIT_SHARE * len(rows)), 1)
    splits: list[Split] = []
    labels = kmeans.predict(Zs)
    names, purity = names_and_purity(sample, labels)
    while kmeans.n_clusters < config.max_segments:
        kept = None
        for segment, value in purity[purity < floor].sort_values().items():
            members = np.flatnonzero(labels == segment)
            rule = MEMBER_RULES[names[int(segment)]]
            holds = rule(flags.iloc[members], sample.iloc[members], month).to_numpy(dtype=bool)
            if min(holds.sum(), (~holds).sum()) < minimum:
                continue
            centres = kmeans.cluster_centers_.copy()
            centres[int(segment)] = Zs[members[holds]].mean(axis=0)
            trial = kmeans_from_centres(np.vstack([centres, Zs[members[~holds]].mean(axis=0)]))
            trial_labels = trial.predict(Zs)
            sizes = np.bincount(trial_labels, minlength=trial.n_clusters)
            if sizes[int(segment)] < minimum or sizes[-1] < minimum:
                continue
            trial_names, trial_purity = names_and_purity(sample, trial_labels)
            gain = misdirected(labels, purity) - misdirected(trial_labels, trial_purity)
            if gain >= minimum:
                fit, rest = (
                    float(trial_purity.get(s, np.nan)) for s in (int(segment), trial.n_clusters - 1)
                )
                split = Split(names[int(segment)], float(value), (fit, rest))
                kept = (trial, trial_labels, trial_names, trial_purity, split)
                break
        if kept is None:
            break
        kmeans, labels, names, purity, split = kept
        splits.append(split)
    return (canonical_order(kmeans) if splits else kmeans), splits
