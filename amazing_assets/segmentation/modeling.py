"""Embedding and clustering of per-user features with scikit-learn (no Dagster, no Spark).

Runs on the driver on the per-user table only, never on events. Memory grows with the number of
customers, not events; model selection and bootstrap refits use samples so their cost is fixed.

Feature choice: recency, frequency, monetary and average order value (RFM), engagement
(views, carts) and the two funnel rates. Counts and money are heavy-tailed, so they are log1p'd;
recency and rates are bounded, so they stay linear (a log would stretch "today vs three days
ago" into the main axis of variation). Time-of-day and weekend shares are left to the profiles:
they say *when* to reach a customer, not *who* the customer is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

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


@dataclass(frozen=True)
class ModelingConfig:
    """Knobs of the modelling stage; defaults sized for 2 cores and millions of customers."""

    variance_share: float = 0.9  # PCA keeps this share of variance
    k_min: int = 3
    k_max: int = 10
    fit_sample: int = 200_000  # customers used to fit scaler, PCA and K-Means
    selection_sample: int = 20_000  # customers scored for silhouette / DB / CH per k
    bootstrap_rounds: int = 5
    bootstrap_sample: int = 20_000
    n_init: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.variance_share <= 1:
            raise ValueError(f"variance_share must be in (0, 1], got {self.variance_share}")
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(f"need 2 <= k_min <= k_max, got {self.k_min}..{self.k_max}")


@dataclass
class SelectionResult:
    k: int
    scores: pd.DataFrame  # one row per k: k, inertia, silhouette, davies_bouldin, calinski_harabasz


def build_embedding(config: ModelingConfig) -> Pipeline:
    """Unfitted preprocessing (log/linear, standard scaling) + PCA."""
    preprocess = ColumnTransformer(
        [
            (
                "log",
                FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
                list(LOG_FEATURES),
            ),
            ("linear", "passthrough", list(LINEAR_FEATURES)),
        ],
        verbose_feature_names_out=False,
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


def fit_embedding(features: pd.DataFrame, config: ModelingConfig) -> tuple[Pipeline, np.ndarray]:
    """Fit on a sample, embed everyone. Returns the fitted pipeline and the coordinates."""
    missing = [c for c in MODEL_FEATURES if c not in features.columns]
    if missing:
        raise ValueError(f"features lack model columns {missing}")
    if len(features) < config.k_max * 10:
        raise ValueError(
            f"{len(features)} customers are too few to segment into up to {config.k_max} groups"
        )
    X = features.loc[:, list(MODEL_FEATURES)]
    fit_rows = sample_rows(len(X), config.fit_sample, config.seed)
    embedding = build_embedding(config).fit(X.iloc[fit_rows])
    return embedding, embedding.transform(X)


def fit_kmeans(Z: np.ndarray, k: int, config: ModelingConfig, seed: int | None = None) -> KMeans:
    return KMeans(
        n_clusters=k, n_init=config.n_init, random_state=config.seed if seed is None else seed
    ).fit(Z)


def select_k(Z: np.ndarray, config: ModelingConfig) -> SelectionResult:
    """Fit every k in the range; choose the k with the best silhouette on a fixed sample."""
    fit_rows = sample_rows(len(Z), config.fit_sample, config.seed)
    score_rows = sample_rows(len(Z), config.selection_sample, config.seed + 1)
    rows = []
    for k in range(config.k_min, config.k_max + 1):
        model = fit_kmeans(Z[fit_rows], k, config)
        labels = model.predict(Z[score_rows])
        rows.append(
            {
                "k": k,
                "inertia": float(model.inertia_),
                "silhouette": float(silhouette_score(Z[score_rows], labels)),
                "davies_bouldin": float(davies_bouldin_score(Z[score_rows], labels)),
                "calinski_harabasz": float(calinski_harabasz_score(Z[score_rows], labels)),
            }
        )
    scores = pd.DataFrame(rows)
    best = int(scores.loc[scores["silhouette"].idxmax(), "k"])
    return SelectionResult(k=best, scores=scores)


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


def bootstrap_stability(
    Z: np.ndarray, reference: KMeans, config: ModelingConfig
) -> dict[int, float]:
    """Per segment, the mean best Jaccard overlap with clusters refitted on bootstrap samples.

    Scored on a fixed evaluation sample: segment c's members there are compared with each
    bootstrap cluster's members; 1.0 means the segment is found again exactly every time.
    """
    k = reference.n_clusters
    eval_rows = sample_rows(len(Z), config.selection_sample, config.seed + 2)
    ref_labels = reference.predict(Z[eval_rows])
    rng = np.random.default_rng(config.seed + 3)
    totals = np.zeros(k)
    for round_index in range(config.bootstrap_rounds):
        boot = rng.choice(len(Z), size=min(config.bootstrap_sample, len(Z)), replace=True)
        refit = fit_kmeans(Z[boot], k, config, seed=config.seed + 100 + round_index)
        labels = refit.predict(Z[eval_rows])
        for c in range(k):
            members = ref_labels == c
            best = 0.0
            for j in range(k):
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
    names = list(embedding.named_steps["preprocess"].get_feature_names_out())
    n = min(top, pca.n_components_)
    return pd.DataFrame(pca.components_[:n].T, index=names, columns=component_names(embedding)[:n])
