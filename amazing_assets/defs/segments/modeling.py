"""Embedding and clustering of per-user features with scikit-learn (no Dagster, no Spark).

Runs on the driver on the per-user table only, never on events. Memory grows with the number of
customers, not events; model selection and bootstrap refits use samples so their cost is fixed.

Feature choice: recency, frequency, monetary and average order value (RFM), engagement
(views, carts) and the two funnel rates. Counts and money are heavy-tailed, so they are log1p'd;
recency and rates are bounded, so they stay linear (a log would stretch "today vs three days
ago" into the main axis of variation). Time-of-day and weekend shares are left to the profiles:
they say *when* to reach a customer, not *who* the customer is.

Structure (issue 12). One K-Means over everyone let the largest, geometric splits win: a 3 %
group of high-basket buyers sat one log-unit from regular buyers on one axis of eight and was
always merged. Customers are therefore split in three *tiers* first: non-buyers, buyers, and
high-basket buyers (average order value at least :data:`HIGH_BASKET_FACTOR` times the buyers'
median). The tiers are two flags inside the embedding (sklearn ``Binarizer``s), so after standard
scaling a rare flag weighs ``1/sqrt(p(1-p))``: the rarer the tier, the further apart. Each tier
is clustered on its own with its own k, and the centres are put together in one ``KMeans``, so
the stored model is still a single skops-safe pipeline predicting by nearest centre.

Choosing k (per tier). Silhouette margins between k values were 0.002-0.02 on populations the
model was not tuned for, so a silhouette argmax was a coin toss. The rule: a k is *admissible*
when bootstrap refits agree with the sample fit (mean ARI ≥ ``min_stability``, after Ben-Hur et
al. 2002 and Lange et al. 2004); among admissible k, silhouette, Calinski-Harabasz and
Davies-Bouldin each vote for their best k and the majority wins (the consensus of internal
indices, as NbClust does); without a majority the smallest voted k is kept (parsimony). The
reason is written down for every tier and month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Binarizer, FunctionTransformer, StandardScaler

MODEL_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "n_views",
    "n_carts",
    "view_to_cart_rate",
    "cart_to_purchase_rate",
)
LOG_FEATURES: tuple[str, ...] = ("frequency", "monetary", "avg_order_value", "n_views", "n_carts")
LINEAR_FEATURES: tuple[str, ...] = tuple(f for f in MODEL_FEATURES if f not in LOG_FEATURES)
TIER_FLAGS: tuple[str, ...] = ("buyer", "high_basket")
EMBEDDED_FEATURES: tuple[str, ...] = (*LOG_FEATURES, *LINEAR_FEATURES, *TIER_FLAGS)

HIGH_BASKET_FACTOR = 2.0
"""A high-basket buyer's average order value is at least this many times the buyers' median."""
NON_BUYERS, BUYERS, HIGH_BASKET = 0, 1, 2
TIER_NAMES = {NON_BUYERS: "non-buyers", BUYERS: "buyers", HIGH_BASKET: "high-basket buyers"}
TIER_COLUMN = "tier"
CUSTOMERS_PER_SEGMENT = 10
"""Under ten customers per possible segment, a month is "not segmented" (too few customers)."""


@dataclass(frozen=True)
class ModelingConfig:
    """Knobs of the modelling stage; defaults sized for 2 cores and millions of customers."""

    variance_share: float = 0.9  # PCA keeps this share of variance
    k_min: int = 2  # per tier (non-buyers, buyers); the high-basket tier is one segment
    k_max: int = 5
    fit_sample: int = 200_000  # customers used to fit scaler, PCA and each tier's K-Means
    selection_sample: int = 30_000  # customers of a tier fitted per candidate k
    score_sample: int = 6_000  # customers of a tier scored (silhouette, stability) per k
    selection_rounds: int = 3  # bootstrap refits per candidate k
    min_stability: float = 0.8  # mean ARI between bootstrap refits for k to be admissible
    min_tier_share: float = 0.01  # a smaller tier is one segment (the value tier: merged)
    bootstrap_rounds: int = 5
    bootstrap_sample: int = 20_000
    n_init: int = 4
    seed: int = 0
    # Split named segments whose members need other actions (``action_splits``). Off: measured
    # on both generator families, it raised purity but cut ARI (docs/segments-and-value.md).
    split_for_actions: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.variance_share <= 1:
            raise ValueError(f"variance_share must be in (0, 1], got {self.variance_share}")
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"need 2 <= k_min <= k_max, got {self.k_min}..{self.k_max}")

    @property
    def max_segments(self) -> int:
        return 2 * self.k_max + 1

    @property
    def min_customers(self) -> int:
        """Customers needed to segment: :data:`CUSTOMERS_PER_SEGMENT` per possible segment. The
        one rule: the stage's outcome (``outcomes.segmentation_outcome``) and the embedding's
        own guard both read it."""
        return CUSTOMERS_PER_SEGMENT * self.max_segments


@dataclass
class TierSelection:
    """One tier's choice of k, the scores behind it and why, in words."""

    tier: int
    customers: int
    k: int
    reason: str
    scores: pd.DataFrame  # one row per candidate k (empty when the tier is one segment)
    rule: str = "single"  # which rule chose k (:data:`K_RULES`), for the app's sentences


@dataclass
class SelectionResult:
    tiers: list[TierSelection] = field(default_factory=list)

    @property
    def k(self) -> int:
        return sum(t.k for t in self.tiers)

    @property
    def scores(self) -> pd.DataFrame:
        """Every tier's candidate scores: tier, k, inertia, silhouette, stability, DB, CH..."""
        frames = [t.scores.assign(tier=TIER_NAMES[t.tier]) for t in self.tiers if len(t.scores)]
        if not frames:
            return pd.DataFrame(columns=["tier", "k"])
        out = pd.concat(frames, ignore_index=True)
        return out[["tier", *[c for c in out.columns if c != "tier"]]]

    @property
    def reasons(self) -> dict[str, str]:
        return {TIER_NAMES[t.tier]: t.reason for t in self.tiers}

    @property
    def ks(self) -> dict[int, int]:
        return {t.tier: t.k for t in self.tiers}


def build_embedding(config: ModelingConfig) -> Pipeline:
    """Unfitted preprocessing (log/linear, tier flags, standard scaling) + PCA."""
    preprocess = ColumnTransformer(
        [
            (
                "log",
                FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                list(LOG_FEATURES),
            ),
            ("linear", "passthrough", list(LINEAR_FEATURES)),
            ("buyer", Binarizer(threshold=0.5), ["frequency"]),
            # The threshold is set from the data in fit_embedding (the buyers' median basket).
            ("high_basket", Binarizer(threshold=np.inf), ["avg_order_value"]),
        ],
    )
    return Pipeline(
        [
            ("preprocess", preprocess),
            ("scale", StandardScaler()),
            (
                "pca",
                PCA(
                    n_components=config.variance_share, svd_solver="full", random_state=config.seed
                ),
            ),
        ]
    )


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted row indices of a seeded sample without replacement (all rows if n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


NO_HIGH_BASKET = float(np.finfo(np.float64).max)
"""The threshold of a month without buyers: finite (scikit-learn refuses ∞), passed by nobody."""


def high_basket_threshold(features: pd.DataFrame) -> float:
    """Average order value from which a buyer is in the high-basket tier.

    Without buyers (a purchase-tag outage) there is no median basket; the tier is then empty
    (:data:`NO_HIGH_BASKET`), never ∞: ``Binarizer`` rejects an infinite threshold.
    """
    buyers = features["frequency"] >= 1
    if not buyers.any():
        return NO_HIGH_BASKET
    median = float(features.loc[buyers, "avg_order_value"].median())
    return HIGH_BASKET_FACTOR * median if np.isfinite(median) else NO_HIGH_BASKET


def fit_embedding(features: pd.DataFrame, config: ModelingConfig) -> tuple[Pipeline, np.ndarray]:
    """Fit on a sample, embed everyone. Returns the fitted pipeline and the coordinates."""
    missing = [c for c in MODEL_FEATURES if c not in features.columns]
    if missing:
        raise ValueError(f"features lack model columns {missing}")
    if len(features) < config.min_customers:  # the assets stop earlier, with an outcome
        raise ValueError(
            f"{len(features)} customers are too few to segment into up to "
            f"{config.max_segments} groups (at least {config.min_customers:,} are needed)"
        )
    X = features.loc[:, list(MODEL_FEATURES)]
    fit_rows = sample_rows(len(X), config.fit_sample, config.seed)
    embedding = build_embedding(config)
    embedding.set_params(preprocess__high_basket__threshold=high_basket_threshold(X.iloc[fit_rows]))
    embedding.fit(X.iloc[fit_rows])
    return embedding, embedding.transform(X)


def tiers(embedding: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """Each customer's tier (0 non-buyer, 1 buyer, 2 high-basket buyer), with the thresholds
    stored in the embedding: the same rule at training time and in real-time prediction."""
    preprocess: ColumnTransformer = embedding.named_steps["preprocess"]
    X = features.loc[:, list(MODEL_FEATURES)]
    buyer = preprocess.named_transformers_["buyer"].transform(X[["frequency"]])[:, 0]
    high = preprocess.named_transformers_["high_basket"].transform(X[["avg_order_value"]])[:, 0]
    return np.where(buyer > 0, np.where(high > 0, HIGH_BASKET, BUYERS), NON_BUYERS).astype(np.int8)


def fit_kmeans(Z: np.ndarray, k: int, config: ModelingConfig, seed: int | None = None) -> KMeans:
    return KMeans(
        n_clusters=k, n_init=config.n_init, random_state=config.seed if seed is None else seed
    ).fit(Z)


def tier_k_range(
    size: int, total: int, tier: int, config: ModelingConfig, distinct: int | None = None
) -> range:
    """Candidate k of a tier: one segment for the value tier or a tier too small to split.

    ``distinct``: how many different points the tier has (at least that many are needed for k
    groups; a tier of identical customers is one segment, not k copies of one centre).
    """
    distinct = size if distinct is None else distinct
    top = min(config.k_max, size // 10, distinct)
    if tier == HIGH_BASKET or size < max(config.min_tier_share * total, 10 * config.k_min):
        return range(1, 2)
    if top < config.k_min:
        return range(1, 2)
    return range(config.k_min, top + 1)


def distinct_points(Z: np.ndarray, config: ModelingConfig, cap: int) -> int:
    """Different points among a tier's selection sample, counted up to ``cap`` (cheap)."""
    rows = sample_rows(len(Z), config.selection_sample, config.seed)
    return min(cap, len(np.unique(Z[rows], axis=0)))


def score_k(Z: np.ndarray, k: int, config: ModelingConfig) -> dict[str, float]:
    """Fit k on a sample of one tier; score silhouette, DB, CH and bootstrap agreement."""
    fit_rows = sample_rows(len(Z), config.selection_sample, config.seed)
    score_rows = sample_rows(len(Z), config.score_sample, config.seed + 1)
    model = fit_kmeans(Z[fit_rows], k, config)
    labels = model.predict(Z[score_rows])
    if not 2 <= len(np.unique(labels)) < len(score_rows):
        # The k groups collapse on the scored customers: no index is defined, k is not a choice.
        return {"k": k, "inertia": float(model.inertia_), **dict.fromkeys(UNDEFINED, np.nan)}
    rng = np.random.default_rng(config.seed + 7 * k)
    agreement = []
    for round_index in range(config.selection_rounds):
        boot = rng.choice(len(Z), size=min(config.selection_sample, len(Z)), replace=True)
        refit = fit_kmeans(Z[boot], k, config, seed=config.seed + 1 + round_index)
        agreement.append(adjusted_rand_score(labels, refit.predict(Z[score_rows])))
    return {
        "k": k,
        "inertia": float(model.inertia_),
        "silhouette": float(silhouette_score(Z[score_rows], labels)),
        "stability": float(np.mean(agreement)),
        "davies_bouldin": float(davies_bouldin_score(Z[score_rows], labels)),
        "calinski_harabasz": float(calinski_harabasz_score(Z[score_rows], labels)),
    }


UNDEFINED = ("silhouette", "stability", "davies_bouldin", "calinski_harabasz")

VOTERS: dict[str, bool] = {"silhouette": True, "calinski_harabasz": True, "davies_bouldin": False}
"""Internal indices that vote for a k, and whether higher is better."""


K_RULES = ("single", "value_tier", "collapsed", "most_stable", "majority", "smallest_voted")
"""How a tier's k was chosen: one segment (too few customers or one behaviour), the value tier
(always one), no k splitting the tier, no stable k (the most stable one), the indices' majority,
or the smallest voted k (no majority). Stored with the month's quality for the app."""


def choose_k(scores: pd.DataFrame, config: ModelingConfig) -> tuple[int, str, str]:
    """Consensus of three indices over the stable k; why, in words; and the rule's code.

    Each index (silhouette, Calinski-Harabasz, Davies-Bouldin) votes for its best k among the
    admissible (stable) ones; the k with most votes wins, and when no k has two votes the
    smallest voted k is kept (parsimony). A single index was a coin toss: its margins between
    neighbouring k were 0.002-0.02, and each index errs on different populations.
    """
    scores = scores.dropna(subset=list(UNDEFINED))
    if scores.empty:
        return 1, "k=1: no candidate k gives two or more distinct groups", "collapsed"
    admissible = scores[scores["stability"] >= config.min_stability]
    if admissible.empty:
        best = scores.loc[scores["stability"].idxmax()]
        return (
            int(best["k"]),
            f"no k reached stability {config.min_stability:.2f}; "
            f"k={int(best['k'])} is the most stable ({best['stability']:.3f})",
            "most_stable",
        )
    votes = {
        index: int(
            admissible.loc[admissible[index].idxmax() if up else admissible[index].idxmin(), "k"]
        )
        for index, up in VOTERS.items()
    }
    tally = pd.Series(list(votes.values())).value_counts()
    majority = tally[tally >= 2]
    k = int(majority.index[0]) if len(majority) else min(votes.values())
    ballot = ", ".join(f"{index} → {v}" for index, v in votes.items())
    rule = "majority" if len(majority) else "no majority, smallest voted k"
    stability = float(admissible.set_index("k").loc[k, "stability"])
    code = "majority" if len(majority) else "smallest_voted"
    return k, f"k={k} ({rule}; {ballot}; bootstrap ARI {stability:.3f})", code


def select_tier_k(Z: np.ndarray, tier: int, total: int, config: ModelingConfig) -> TierSelection:
    distinct = distinct_points(Z, config, config.k_max)
    candidates = tier_k_range(len(Z), total, tier, config, distinct)
    if len(candidates) == 1 and candidates[0] == 1:
        if tier == HIGH_BASKET:
            why = "the value tier is always one segment"
        elif distinct < config.k_min:
            why = f"{len(Z)} customers with one behaviour: nothing to split"
        else:
            why = f"{len(Z)} customers: too few to split"
        rule = "value_tier" if tier == HIGH_BASKET else "single"
        return TierSelection(tier, len(Z), 1, f"k=1: {why}", pd.DataFrame(), rule)
    scores = pd.DataFrame([score_k(Z, k, config) for k in candidates])
    k, reason, rule = choose_k(scores, config)
    scores["chosen"] = scores["k"] == k
    return TierSelection(tier, len(Z), k, reason, scores, rule)


def effective_tiers(tier: np.ndarray, config: ModelingConfig) -> np.ndarray:
    """Tiers as clustered: a value tier below ``min_tier_share`` joins the buyers."""
    if np.count_nonzero(tier == HIGH_BASKET) < config.min_tier_share * len(tier):
        return np.where(tier == HIGH_BASKET, BUYERS, tier).astype(np.int8)
    return tier


def select_k(Z: np.ndarray, tier: np.ndarray, config: ModelingConfig) -> SelectionResult:
    """k for every tier present (see the module docstring for the rule)."""
    tier = effective_tiers(tier, config)
    result = SelectionResult()
    for t in (NON_BUYERS, BUYERS, HIGH_BASKET):
        members = np.flatnonzero(tier == t)
        if len(members):
            result.tiers.append(select_tier_k(Z[members], t, len(Z), config))
    return result


def fit_centres(
    Z: np.ndarray,
    tier: np.ndarray,
    ks: dict[int, int],
    config: ModelingConfig,
    rows: np.ndarray | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """Each tier's K-Means centres on (a sample of) its customers, stacked tier by tier."""
    tier = effective_tiers(tier, config)
    rows = np.arange(len(Z)) if rows is None else rows
    centres = []
    for t, k in ks.items():
        members = rows[tier[rows] == t]
        if len(members) < k:  # a bootstrap sample that missed a small tier: take the whole tier
            members = np.flatnonzero(tier == t)
        members = members[sample_rows(len(members), config.fit_sample, config.seed)]
        centres.append(fit_kmeans(Z[members], k, config, seed=seed).cluster_centers_)
    return np.vstack(centres)


def kmeans_from_centres(centres: np.ndarray) -> KMeans:
    """A fitted ``KMeans`` whose centres are exactly ``centres`` (one point per cluster).

    Prediction is by nearest centre, as for any K-Means, so the stored model stays a plain
    sklearn pipeline that skops trusts.
    """
    return KMeans(n_clusters=len(centres), init=centres, n_init=1, max_iter=1).fit(centres)


def fit_segments(
    Z: np.ndarray, tier: np.ndarray, selection: SelectionResult, config: ModelingConfig
) -> KMeans:
    """The month's segments: every tier's centres in one nearest-centre model."""
    return canonical_order(kmeans_from_centres(fit_centres(Z, tier, selection.ks, config)))


def canonical_order(model: KMeans) -> KMeans:
    """Renumber clusters by the first principal coordinate of their centres, so segment ids do
    not depend on K-Means' arbitrary numbering (names come from rules, not ids)."""
    order = np.lexsort(model.cluster_centers_.T[::-1])
    model.cluster_centers_ = model.cluster_centers_[order]
    if hasattr(model, "labels_"):
        remap = np.empty_like(order)
        remap[order] = np.arange(len(order))
        model.labels_ = remap[model.labels_]
    return model


def tier_agreement(labels: np.ndarray, tier: np.ndarray, k: int) -> float:
    """Share of customers whose segment's majority tier is their own tier.

    Segments are nearest-centre regions; 1.0 means no customer crossed into another tier's
    segment (the tier flags in the embedding keep them apart).
    """
    counts = np.zeros((k, 3), dtype=np.int64)
    np.add.at(counts, (labels, tier), 1)
    majority = counts.argmax(axis=1)
    return float(np.mean(majority[labels] == tier)) if len(labels) else 1.0


def bootstrap_stability(
    Z: np.ndarray,
    tier: np.ndarray,
    reference: KMeans,
    selection: SelectionResult,
    config: ModelingConfig,
) -> dict[int, float]:
    """Per segment, the mean best Jaccard overlap with segments refitted on bootstrap samples.

    The refit is the whole tiered procedure with the chosen k per tier. Scored on a fixed
    evaluation sample: segment c's members there are compared with each bootstrap segment's
    members; 1.0 means the segment is found again exactly every time.
    """
    k = reference.n_clusters
    eval_rows = sample_rows(len(Z), config.selection_sample, config.seed + 2)
    ref_labels = reference.predict(Z[eval_rows])
    rng = np.random.default_rng(config.seed + 3)
    totals = np.zeros(k)
    for round_index in range(config.bootstrap_rounds):
        boot = rng.choice(len(Z), size=min(config.bootstrap_sample, len(Z)), replace=True)
        centres = fit_centres(
            Z, tier, selection.ks, config, rows=boot, seed=config.seed + 100 + round_index
        )
        labels = kmeans_from_centres(centres).predict(Z[eval_rows])
        for c in range(k):
            members = ref_labels == c
            best = 0.0
            for j in range(len(centres)):
                other = labels == j
                union = np.count_nonzero(members | other)
                if union:
                    best = max(best, np.count_nonzero(members & other) / union)
            totals[c] += best
    return {c: float(totals[c] / config.bootstrap_rounds) for c in range(k)}


def segment_pipeline(embedding: Pipeline, kmeans: KMeans) -> Pipeline:
    """The whole model: features → preprocessing → PCA → segment."""
    return Pipeline([*embedding.steps, ("kmeans", kmeans)])


def assign(pipeline: Pipeline, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segment and distance to its centre for every customer, in chunks (bounded memory)."""
    labels, distances = [], []
    embed = Pipeline(pipeline.steps[:-1])
    kmeans: KMeans = pipeline.steps[-1][1]
    X = features.loc[:, list(MODEL_FEATURES)]
    for start in range(0, len(X), 500_000):
        d = kmeans.transform(embed.transform(X.iloc[start : start + 500_000]))
        labels.append(d.argmin(axis=1))
        distances.append(d.min(axis=1))
    if not labels:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(labels), np.concatenate(distances)


def component_names(embedding: Pipeline) -> list[str]:
    """Coordinate columns of a fitted embedding: ``pc_1`` … ``pc_n``.

    ``n`` is the month's own: PCA keeps as many components as its variance share needs, so two
    months can differ. Readers of a coordinates table select these columns (a table holding
    several months has the union of them, null where a month has fewer).
    """
    return [f"pc_{i + 1}" for i in range(embedding.named_steps["pca"].n_components_)]


def loadings(embedding: Pipeline, top: int = 3) -> pd.DataFrame:
    """Feature loadings of the first ``top`` principal components."""
    pca: PCA = embedding.named_steps["pca"]
    n = min(top, pca.n_components_)
    return pd.DataFrame(
        pca.components_[:n].T, index=list(EMBEDDED_FEATURES), columns=component_names(embedding)[:n]
    )
