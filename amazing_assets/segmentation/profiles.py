"""Segment profiles, business names and recommended marketing actions.

Names come from rules on each segment's behaviour, never from cluster numbers. Each candidate name
scores every segment; a one-to-one assignment (Hungarian algorithm) maximises the total score so
names are unique within a month. A segment that matches last month's segment closely keeps its
name (a continuity bonus), so a stable behaviour keeps a stable name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from amazing_assets.segmentation.modeling import LOG_FEATURES, MODEL_FEATURES

PROFILE_MEDIANS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "n_views",
    "n_carts",
    "n_purchases",
    "n_sessions",
    "view_to_cart_rate",
    "cart_to_purchase_rate",
    "active_days",
    "share_evening",
    "share_weekend",
)
CONTINUITY_BONUS = 1.5
CONTINUITY_MAX_DISTANCE = 1.0  # in z-score units (RMS over model features)


@dataclass(frozen=True)
class Action:
    """A recommended marketing action for a segment (English and French texts)."""

    channel: str
    offer: str
    timing: str
    kpi: str
    description: str
    channel_fr: str
    offer_fr: str
    timing_fr: str
    kpi_fr: str
    description_fr: str
    name_fr: str


ACTIONS: dict[str, Action] = {
    "Champions": Action(
        "Email + app push, personal",
        "Early access and VIP perks, no discounts needed",
        "Within a week of each order",
        "Repeat-order rate, revenue per customer",
        "Frequent, recent, high-value buyers",
        "Email + push, personnalisé",
        "Accès anticipé et avantages VIP, sans remise",
        "Dans la semaine suivant chaque commande",
        "Taux de réachat, revenu par client",
        "Acheteurs fréquents, récents, à forte valeur",
        "Champions",
    ),
    "Loyal customers": Action(
        "Email newsletter",
        "Loyalty points, cross-sell of adjacent categories",
        "Monthly, on their usual shopping day",
        "Orders per customer, category breadth",
        "Regular buyers with average baskets",
        "Newsletter email",
        "Points fidélité, ventes croisées de catégories voisines",
        "Mensuel, le jour habituel d'achat",
        "Commandes par client, nombre de catégories",
        "Acheteurs réguliers au panier moyen",
        "Clients fidèles",
    ),
    "Bargain hunters": Action(
        "App push + email",
        "Flash sales, bundles and free-shipping thresholds",
        "At promotion launches",
        "Orders per customer, margin per order",
        "Frequent buyers of low-priced items",
        "Push appli + email",
        "Ventes flash, lots et seuil de livraison offerte",
        "Au lancement des promotions",
        "Commandes par client, marge par commande",
        "Acheteurs fréquents d'articles à petit prix",
        "Chasseurs de bonnes affaires",
    ),
    "Big spenders": Action(
        "Email, personal shopper",
        "Premium accessories and extended warranty",
        "2-4 weeks after the purchase",
        "Second-order rate, average order value",
        "Few but expensive orders",
        "Email, conseiller personnel",
        "Accessoires premium et extension de garantie",
        "2 à 4 semaines après l'achat",
        "Taux de second achat, panier moyen",
        "Peu de commandes mais coûteuses",
        "Gros dépensiers",
    ),
    "One-time buyers": Action(
        "Email",
        "Welcome-back voucher on a second order",
        "7-14 days after the first order",
        "Second-order conversion",
        "Bought once, little browsing",
        "Email",
        "Bon de réduction sur une deuxième commande",
        "7 à 14 jours après la première commande",
        "Conversion en deuxième commande",
        "Un seul achat, peu de navigation",
        "Acheteurs uniques",
    ),
    "New customers": Action(
        "Email onboarding series",
        "Welcome guide and first-order benefits",
        "First 30 days",
        "Activation rate",
        "Recently arrived customers",
        "Série d'emails de bienvenue",
        "Guide de bienvenue et avantages de première commande",
        "30 premiers jours",
        "Taux d'activation",
        "Clients arrivés récemment",
        "Nouveaux clients",
    ),
    "Cart abandoners": Action(
        "Email + retargeting ads",
        "Cart reminder, then a time-limited discount",
        "1 h and 24 h after the abandoned cart",
        "Cart-to-purchase rate",
        "Add to cart often, rarely buy",
        "Email + publicité de reciblage",
        "Rappel de panier puis remise limitée dans le temps",
        "1 h et 24 h après l'abandon",
        "Taux de conversion panier → achat",
        "Ajoutent souvent au panier, achètent rarement",
        "Abandonnistes de panier",
    ),
    "Window shoppers": Action(
        "Onsite recommendations + retargeting",
        "Social proof, price-drop alerts on viewed items",
        "While browsing and within 48 h",
        "View-to-cart rate",
        "Browse a lot, never add to cart",
        "Recommandations sur site + reciblage",
        "Preuve sociale, alertes de baisse de prix",
        "Pendant la navigation et sous 48 h",
        "Taux vue → panier",
        "Naviguent beaucoup sans mettre au panier",
        "Lèche-vitrines",
    ),
    "At risk": Action(
        "Email + SMS",
        "Win-back offer on their favourite category",
        "Now: before they lapse",
        "Reactivation rate",
        "Past buyers who stopped coming",
        "Email + SMS",
        "Offre de reconquête sur leur catégorie préférée",
        "Maintenant, avant qu'ils ne partent",
        "Taux de réactivation",
        "Anciens acheteurs qui ne reviennent plus",
        "À risque",
    ),
    "Occasional browsers": Action(
        "Newsletter + onsite personalisation",
        "Personalised picks from viewed categories",
        "Weekly digest",
        "Visit frequency, view-to-cart rate",
        "Visit now and then, browse a little, do not buy yet",
        "Newsletter + personnalisation sur site",
        "Sélection personnalisée des catégories vues",
        "Récapitulatif hebdomadaire",
        "Fréquence de visite, taux vue → panier",
        "Passent de temps en temps, regardent un peu, n'achètent pas encore",
        "Visiteurs occasionnels",
    ),
    "Dormant": Action(
        "Low-cost email",
        "Reactivation campaign, then suppress if no response",
        "Once a quarter",
        "Reactivation rate, list hygiene",
        "Inactive for weeks, little engagement",
        "Email à faible coût",
        "Campagne de réactivation, puis retrait sans réponse",
        "Une fois par trimestre",
        "Taux de réactivation, qualité de la base",
        "Inactifs depuis des semaines, peu engagés",
        "Dormants",
    ),
}
NAMES: tuple[str, ...] = tuple(ACTIONS)


def transformed(features: pd.DataFrame) -> pd.DataFrame:
    """Model features on the scale the model sees them (log1p for heavy tails)."""
    out = features.loc[:, list(MODEL_FEATURES)].astype(float).copy()
    for column in LOG_FEATURES:
        out[column] = np.log1p(out[column])
    return out


def profile_segments(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment: size, share, revenue share, medians, z-scores and the statistics naming uses."""
    if len(features) != len(labels):
        raise ValueError("one label per customer is required")
    frame = features.assign(segment=labels)
    t = transformed(features)
    mean, std = t.mean(), t.std(ddof=0).replace(0, 1.0)
    z = ((t.assign(segment=labels).groupby("segment").mean() - mean) / std).add_prefix("z_")
    medians = frame.groupby("segment")[list(PROFILE_MEDIANS)].median().add_prefix("median_")
    grouped = frame.groupby("segment")
    buyers = features["frequency"] >= 1
    population_aov = (
        float(features.loc[buyers, "avg_order_value"].median()) if buyers.any() else 0.0
    )
    stats = pd.DataFrame(
        {
            "size": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "buyer_share": grouped["frequency"].apply(lambda f: float((f >= 1).mean())),
            "repeat_share": grouped["frequency"].apply(lambda f: float((f >= 2).mean())),
            "cart_share": grouped["n_carts"].apply(lambda c: float((c >= 1).mean())),
            "buyer_aov": frame[buyers.to_numpy()].groupby("segment")["avg_order_value"].median(),
        }
    )
    stats["share"] = stats["size"] / len(features)
    total_revenue = float(features["monetary"].sum())
    stats["revenue_share"] = stats["revenue"] / total_revenue if total_revenue > 0 else 0.0
    # Price evidence counts only as much as the segment buys.
    stats["price_level"] = stats["buyer_share"] * np.log2(
        (stats["buyer_aov"].fillna(population_aov) + 1) / (population_aov + 1)
    )
    population = features[["recency_days", "n_views", "tenure_days"]].median()
    stats["recency_level"] = np.log2(
        (medians["median_recency_days"] + 1) / (population["recency_days"] + 1)
    )
    stats["engagement_level"] = np.log2(
        (medians["median_n_views"] + 1) / (population["n_views"] + 1)
    )
    stats["tenure_level"] = np.log2(
        (frame.groupby("segment")["tenure_days"].median() + 1) / (population["tenure_days"] + 1)
    )
    profiles = pd.concat([stats, medians, z], axis=1).reset_index()
    return profiles.sort_values("segment").reset_index(drop=True)


# Each rule scores how well a profile fits a name; scores are on comparable scales (shares in
# [0, 1], log2 levels around 0). Positive evidence adds, contradicting evidence subtracts.
_RULES: dict[str, Callable[[pd.Series], float]] = {
    "Champions": lambda p: 2 * p.repeat_share + p.price_level - p.recency_level,
    "Loyal customers": lambda p: 2 * p.repeat_share - abs(p.price_level) - 0.5,
    "Bargain hunters": lambda p: 2 * p.repeat_share - p.price_level,
    "Big spenders": lambda p: 2 * (p.buyer_share - p.repeat_share) + p.price_level - 0.5,
    "One-time buyers": lambda p: 2 * (p.buyer_share - p.repeat_share) - 0.5 * p.engagement_level,
    "New customers": lambda p: (
        p.buyer_share - 2 * p.tenure_level - 2 * max(p.tenure_level + 0.5, 0) - 1.0
    ),
    "Cart abandoners": lambda p: 2 * (p.cart_share - p.buyer_share) + 0.5 * p.engagement_level,
    "Window shoppers": lambda p: (
        2 * (1 - p.cart_share) - 2 * p.buyer_share + p.engagement_level - p.recency_level
    ),
    "At risk": lambda p: 3 * p.buyer_share + p.recency_level - 2.0,
    "Occasional browsers": lambda p: (
        2 * (1 - p.buyer_share)
        - p.cart_share
        - abs(p.engagement_level)
        - abs(p.recency_level)
        - 0.5
    ),
    "Dormant": lambda p: 2 * (1 - p.buyer_share) + p.recency_level - p.engagement_level - 1.0,
}


# Names that only fit buyers, and names that only fit customers who do not buy: a segment pays
# for what it lacks, so the one-to-one assignment can never hand a buyer name to non-buyers
# (or the reverse) just because every better name was taken.
BUYER_NAMES = (
    "Champions",
    "Loyal customers",
    "Bargain hunters",
    "Big spenders",
    "One-time buyers",
    "At risk",
)
NON_BUYER_NAMES = ("Cart abandoners", "Window shoppers", "Occasional browsers", "Dormant")
GATE_WEIGHT = 10.0  # a buyer/non-buyer mismatch is the last resort, below any other name


def name_scores(profiles: pd.DataFrame) -> pd.DataFrame:
    """Segments × names matrix of rule scores, gated by the segment's buyer share."""
    rows = []
    for p in profiles.itertuples():
        scores = {}
        for name, rule in _RULES.items():
            score = float(rule(p))
            if name in BUYER_NAMES:
                score -= GATE_WEIGHT * (1 - p.buyer_share)
            elif name in NON_BUYER_NAMES:
                score -= GATE_WEIGHT * p.buyer_share
            scores[name] = score
        rows.append(scores)
    return pd.DataFrame(rows, index=profiles["segment"], columns=list(_RULES))


def name_segments(profiles: pd.DataFrame, previous: pd.DataFrame | None = None) -> dict[int, str]:
    """A unique business name per segment; last month's name wins when behaviour matches."""
    if len(profiles) > len(NAMES):
        raise ValueError(f"{len(profiles)} segments but only {len(NAMES)} names: lower k_max")
    scores = name_scores(profiles)
    if previous is not None and len(previous):
        for segment, name in continuity(profiles, previous).items():
            scores.loc[segment, name] += CONTINUITY_BONUS
    rows, cols = linear_sum_assignment(scores.to_numpy(), maximize=True)
    return {int(scores.index[r]): str(scores.columns[c]) for r, c in zip(rows, cols, strict=True)}


def continuity(profiles: pd.DataFrame, previous: pd.DataFrame) -> dict[int, str]:
    """Current segment → last month's name, for segments whose z-profile barely moved."""
    z_cols = [f"z_{f}" for f in MODEL_FEATURES]
    now, before = profiles[z_cols].to_numpy(), previous[z_cols].to_numpy()
    distance = np.sqrt(((now[:, None, :] - before[None, :, :]) ** 2).mean(axis=2))
    rows, cols = linear_sum_assignment(distance)
    return {
        int(profiles["segment"].iloc[r]): str(previous["name"].iloc[c])
        for r, c in zip(rows, cols, strict=True)
        if distance[r, c] <= CONTINUITY_MAX_DISTANCE
    }


def describe(profiles: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    """Profiles with name, French name, description and the recommended action columns."""
    out = profiles.copy()
    out["name"] = out["segment"].map(names)
    actions = pd.DataFrame([{"name": n, **asdict(a)} for n, a in ACTIONS.items()])
    return out.merge(actions, on="name", how="left")
