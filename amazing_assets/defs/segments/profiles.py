"""Segment profiles, business names that are true by definition, and marketing actions.

Names come from written, measurable definitions (:data:`DEFINITIONS`), never from cluster numbers
or from "the closest rule". A definition is a predicate on the segment's measured profile (shares
of members, medians against the month's buyers): "Big spenders" *is* "most members bought and
their median basket is at least 1.5x the buyers' median". The naming uses these predicates and
so do the tests, so a name cannot be false by its own definition. Among the names a segment
fits, a one-to-one assignment (Hungarian algorithm) prefers the most specific name; a segment
that fits none, or whose names went to better-fitting segments, gets a neutral descriptive name
("Buyers, mid basket"). A segment that matches last month's segment closely keeps its name when
that name is still true (a continuity bonus), so a stable behaviour keeps a stable name.

Actions are worded for any catalogue (no product family): the per-user table carries how many
categories a customer touched, not which, so offers refer to "the categories they buy".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from amazing_assets.defs.segments.distinct_names import (
    base_name,
    distinct_names,
    french_qualifiers,
)
from amazing_assets.defs.segments.modeling import LOG_FEATURES, MODEL_FEATURES

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
CONTINUITY_BONUS = 6.0  # above any specificity gap: a still-true name is kept
CONTINUITY_MAX_DISTANCE = 1.0  # in z-score units (RMS over model features)

# Thresholds of the definitions, in one place (and in the README's table).
RECENT_DAYS = 30.0  # "recently" = within the last 30 days of the as-of month's end
MOST = 0.8  # "most members" (buyer segments, lapsed buyers, carts, inactivity)
HALF = 0.5  # "the majority of members"
NON_BUYER_MAX = 0.1  # a browsing segment: at most 1 member in 10 bought
HIGH_BASKET = 1.5  # median basket at least 1.5x the month's buyers' median
LOW_BASKET = 1 / 1.5  # median basket at most 2/3 of the month's buyers' median
HIGH_SPEND = 1.5  # median spend at least 1.5x the buyers' median spend
INACTIVE_DAYS = 21.0  # "inactive for weeks" = no visit in the last three weeks
MANY_SESSIONS = 3  # "browse a lot": a median of 3+ visits and 10+ product views in the window
MANY_VIEWS = 10
FEW_SESSIONS = 2  # "now and then": a median of at most 2 visits
CARTS_OFTEN = 0.1  # median view-to-cart rate of cart abandoners
CARTS_RARELY = 0.05  # median view-to-cart rate of window shoppers
LOW_CART = 0.2  # at most 1 member in 5 added anything to a cart
MIN_NAME_PURITY = 0.8  # under it, a named segment's purity warns (QualityResource's default)
HEAVY_BROWSING = 2.0  # neutral names only: median views vs the month's median customer
LIGHT_BROWSING = 1.0


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


@dataclass(frozen=True)
class Definition:
    """A name's measurable definition: ``holds`` on a profile row, written out in ``text``.

    ``specificity`` ranks names a segment fits at once: the narrower name wins ("Champions"
    before "Loyal customers"); ``strength`` (0..1) breaks ties between segments for one name.
    """

    text: str
    holds: Callable[[pd.Series], bool]
    specificity: float
    strength: Callable[[pd.Series], float] = lambda p: 0.0


def _buyers(p: pd.Series) -> bool:
    return p.buyer_share >= MOST


def _browsers(p: pd.Series) -> bool:
    return p.buyer_share <= NON_BUYER_MAX


def _unit(x: float) -> float:
    return float(np.clip(x, 0.0, 1.0))


DEFINITIONS: dict[str, Definition] = {
    "Champions": Definition(
        f"≥{MOST:.0%} bought; ≥{HALF:.0%} ordered twice or more; ≥{HALF:.0%} bought in the last "
        f"{RECENT_DAYS:.0f} days; median spend ≥ {HIGH_SPEND}x the buyers' median",
        lambda p: (
            _buyers(p)
            and p.repeat_share >= HALF
            and p.recent_buyer_share >= HALF
            and p.spend_ratio >= HIGH_SPEND
        ),
        6,
        lambda p: _unit(np.log2(p.spend_ratio) / 3),
    ),
    "Big spenders": Definition(
        f"≥{MOST:.0%} bought; median basket ≥ {HIGH_BASKET}x the buyers' median basket",
        lambda p: _buyers(p) and p.basket_ratio >= HIGH_BASKET,
        5,
        lambda p: _unit(np.log2(p.basket_ratio) / 3),
    ),
    "At risk": Definition(
        f"≥{MOST:.0%} are past buyers with no purchase in the last {RECENT_DAYS:.0f} days",
        lambda p: _buyers(p) and p.lapsed_buyer_share >= MOST,
        5,
        lambda p: p.lapsed_buyer_share,
    ),
    "New customers": Definition(
        f"≥{MOST:.0%} bought; ≥{HALF:.0%} first seen within the last {RECENT_DAYS:.0f} days "
        "and bought",
        lambda p: _buyers(p) and p.new_buyer_share >= HALF,
        5,
        lambda p: p.new_buyer_share,
    ),
    "Bargain hunters": Definition(
        f"≥{MOST:.0%} bought; ≥{HALF:.0%} ordered twice or more; median basket ≤ "
        f"{LOW_BASKET:.2f}x the buyers' median basket",
        lambda p: _buyers(p) and p.repeat_share >= HALF and p.basket_ratio <= LOW_BASKET,
        4,
        lambda p: _unit(-np.log2(max(p.basket_ratio, 1e-9)) / 3),
    ),
    "Loyal customers": Definition(
        f"≥{MOST:.0%} bought; ≥{HALF:.0%} ordered twice or more; ≥{HALF:.0%} bought in the last "
        f"{RECENT_DAYS:.0f} days",
        lambda p: _buyers(p) and p.repeat_share >= HALF and p.recent_buyer_share >= HALF,
        3,
        lambda p: p.repeat_share,
    ),
    "One-time buyers": Definition(
        f"≥{MOST:.0%} bought; ≥{HALF:.0%} ordered exactly once",
        lambda p: _buyers(p) and p.single_order_share >= HALF,
        2,
        lambda p: p.single_order_share,
    ),
    "Cart abandoners": Definition(
        f"≤{NON_BUYER_MAX:.0%} bought; ≥{MOST:.0%} added to a cart; median view-to-cart rate ≥ "
        f"{CARTS_OFTEN}",
        lambda p: (
            _browsers(p) and p.cart_share >= MOST and p.median_view_to_cart_rate >= CARTS_OFTEN
        ),
        4,
        lambda p: p.cart_share,
    ),
    "Dormant": Definition(
        f"≤{NON_BUYER_MAX:.0%} bought; ≥{MOST:.0%} no visit in the last {INACTIVE_DAYS:.0f} days",
        lambda p: _browsers(p) and p.inactive_share >= MOST,
        4,
        lambda p: p.inactive_share,
    ),
    "Window shoppers": Definition(
        f"≤{NON_BUYER_MAX:.0%} bought; median ≥ {MANY_SESSIONS} visits and ≥ {MANY_VIEWS} "
        f"product views; median view-to-cart rate ≤ {CARTS_RARELY}; ≥{HALF:.0%} visited in the "
        f"last {INACTIVE_DAYS:.0f} days",
        lambda p: (
            _browsers(p)
            and p.median_n_sessions >= MANY_SESSIONS
            and p.median_n_views >= MANY_VIEWS
            and p.median_view_to_cart_rate <= CARTS_RARELY
            and p.inactive_share <= HALF
        ),
        3,
        lambda p: _unit(p.median_n_views / (4 * MANY_VIEWS)),
    ),
    "Occasional browsers": Definition(
        f"≤{NON_BUYER_MAX:.0%} bought; ≤{LOW_CART:.0%} added to a cart; median ≤ "
        f"{FEW_SESSIONS} visits and < {MANY_VIEWS} product views; ≥{HALF:.0%} visited in the "
        f"last {INACTIVE_DAYS:.0f} days",
        lambda p: (
            _browsers(p)
            and p.cart_share <= LOW_CART
            and p.median_n_sessions <= FEW_SESSIONS
            and p.median_n_views < MANY_VIEWS
            and p.inactive_share <= HALF
        ),
        2,
        lambda p: 1 - p.inactive_share,
    ),
}

# What each definition claims of one member: its facts, each customer on their own (a share
# such as "≥50 % ordered twice" becomes "ordered twice"; a median becomes the member's value).
# The segment-level definitions above allow half a segment to differ; purity says how many do.
# A rule reads the member's facts (``member_flags``), features and the month's buyers' medians.
MemberRule = Callable[[pd.DataFrame, pd.DataFrame, "BuyerMedians"], pd.Series]


@dataclass(frozen=True)
class BuyerMedians:
    """The month's buyers' median basket and spend: what "high" and "low" are measured against
    (0 in a month without a buyer)."""

    basket: float
    spend: float

    @classmethod
    def of(cls, features: pd.DataFrame) -> BuyerMedians:
        buyers = features[features["frequency"] >= 1]
        if buyers.empty:
            return cls(0.0, 0.0)
        return cls(float(buyers["avg_order_value"].median()), float(buyers["monetary"].median()))


MEMBER_RULES: dict[str, MemberRule] = {
    "Champions": lambda m, f, month: (
        m.repeat_share & m.recent_buyer_share & (f["monetary"] >= HIGH_SPEND * month.spend)
    ),
    "Big spenders": lambda m, f, month: (
        m.buyer_share & (f["avg_order_value"] >= HIGH_BASKET * month.basket)
    ),
    "At risk": lambda m, f, month: m.lapsed_buyer_share,
    "New customers": lambda m, f, month: m.new_buyer_share,
    "Bargain hunters": lambda m, f, month: (
        m.repeat_share & (f["avg_order_value"] <= LOW_BASKET * month.basket)
    ),
    "Loyal customers": lambda m, f, month: m.repeat_share & m.recent_buyer_share,
    "One-time buyers": lambda m, f, month: m.single_order_share,
    "Cart abandoners": lambda m, f, month: (
        ~m.buyer_share & m.cart_share & (f["view_to_cart_rate"] >= CARTS_OFTEN)
    ),
    "Dormant": lambda m, f, month: ~m.buyer_share & m.inactive_share,
    "Window shoppers": lambda m, f, month: (
        ~m.buyer_share
        & (f["n_sessions"] >= MANY_SESSIONS)
        & (f["n_views"] >= MANY_VIEWS)
        & (f["view_to_cart_rate"] <= CARTS_RARELY)
        & ~m.inactive_share
    ),
    "Occasional browsers": lambda m, f, month: (
        ~m.buyer_share
        & ~m.cart_share
        & (f["n_sessions"] <= FEW_SESSIONS)
        & (f["n_views"] < MANY_VIEWS)
        & ~m.inactive_share
    ),
}


def name_purity(features: pd.DataFrame, labels: np.ndarray, names: dict[int, str]) -> pd.Series:
    """Per segment, the share of its members who are what its name says, each on their own.

    A segment can meet its name's definition by its shares and medians while many members do
    not (half of a "Champions" who ordered once, with one large basket): they would get an
    action meant for others. Neutral names claim nothing: NaN."""
    flags, month = member_flags(features), BuyerMedians.of(features)
    purity: dict[int, float] = {}
    for segment, name in names.items():
        rule = MEMBER_RULES.get(name)
        members = labels == segment
        if rule is None or not members.any():
            purity[segment] = np.nan
        else:
            purity[segment] = float(rule(flags[members], features[members], month).mean())
    return pd.Series(purity, name="purity", dtype=float)


DEFINED_ACTIONS: dict[str, Action] = {
    "Champions": Action(
        "Email + app push, personal",
        "Early access and VIP perks, no discounts needed",
        "Within a week of each order",
        "Repeat-order rate, revenue per customer",
        "Frequent, recent buyers who spend the most",
        "Email + push, personnalisé",
        "Accès anticipé et avantages VIP, sans remise",
        "Dans la semaine suivant chaque commande",
        "Taux de réachat, revenu par client",
        "Acheteurs fréquents et récents qui dépensent le plus",
        "Champions",
    ),
    "Loyal customers": Action(
        "Email newsletter",
        "Loyalty points, cross-sell of adjacent categories",
        "Monthly, on their usual shopping day",
        "Orders per customer, category breadth",
        "Recent buyers who order again",
        "Newsletter email",
        "Points fidélité, ventes croisées de catégories voisines",
        "Mensuel, le jour habituel d'achat",
        "Commandes par client, nombre de catégories",
        "Acheteurs récents qui recommandent",
        "Clients fidèles",
    ),
    "Bargain hunters": Action(
        "App push + email",
        "Flash sales, bundles and free-shipping thresholds",
        "At promotion launches",
        "Orders per customer, margin per order",
        "Repeat buyers with small baskets",
        "Push appli + email",
        "Ventes flash, lots et seuil de livraison offerte",
        "Au lancement des promotions",
        "Commandes par client, marge par commande",
        "Acheteurs réguliers aux petits paniers",
        "Chasseurs de bonnes affaires",
    ),
    "Big spenders": Action(
        "Email, personal advice",
        "Premium range of the categories they buy, priority delivery and service",
        "2-4 weeks after the purchase",
        "Second-order rate, average order value",
        "Baskets well above the buyers' median",
        "Email, conseil personnalisé",
        "Gamme premium des catégories achetées, livraison et service prioritaires",
        "2 à 4 semaines après l'achat",
        "Taux de second achat, panier moyen",
        "Paniers bien au-dessus de la médiane des acheteurs",
        "Gros dépensiers",
    ),
    "One-time buyers": Action(
        "Email",
        "Voucher on a second order",
        "7-14 days after the first order",
        "Second-order conversion",
        "Bought once",
        "Email",
        "Bon de réduction sur une deuxième commande",
        "7 à 14 jours après la première commande",
        "Conversion en deuxième commande",
        "Un seul achat",
        "Acheteurs uniques",
    ),
    "New customers": Action(
        "Email onboarding series",
        "Welcome guide and first-order benefits",
        "First 30 days",
        "Activation rate",
        "Arrived in the last 30 days and bought",
        "Série d'emails de bienvenue",
        "Guide de bienvenue et avantages de première commande",
        "30 premiers jours",
        "Taux d'activation",
        "Arrivés depuis moins de 30 jours et ont acheté",
        "Nouveaux clients",
    ),
    "Cart abandoners": Action(
        "Email + retargeting ads",
        "Cart reminder, then a time-limited discount",
        "1 h and 24 h after the abandoned cart",
        "Cart-to-purchase rate",
        "Add to cart often, do not buy",
        "Email + publicité de reciblage",
        "Rappel de panier puis remise limitée dans le temps",
        "1 h et 24 h après l'abandon",
        "Taux de conversion panier → achat",
        "Ajoutent souvent au panier, n'achètent pas",
        "Abandonnistes de panier",
    ),
    "Window shoppers": Action(
        "Onsite recommendations + retargeting",
        "Social proof, price-drop alerts on viewed items",
        "While browsing and within 48 h",
        "View-to-cart rate",
        "Visit often and browse a lot, rarely add to cart",
        "Recommandations sur site + reciblage",
        "Preuve sociale, alertes de baisse de prix",
        "Pendant la navigation et sous 48 h",
        "Taux vue → panier",
        "Viennent souvent et naviguent beaucoup, mettent rarement au panier",
        "Lèche-vitrines",
    ),
    "At risk": Action(
        "Email + SMS",
        "Win-back offer on their favourite category",
        "Now: before they lapse",
        "Reactivation rate",
        "Past buyers with no purchase for 30 days",
        "Email + SMS",
        "Offre de reconquête sur leur catégorie préférée",
        "Maintenant, avant qu'ils ne partent",
        "Taux de réactivation",
        "Anciens acheteurs sans achat depuis 30 jours",
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
        "No visit for three weeks, no purchase",
        "Email à faible coût",
        "Campagne de réactivation, puis retrait sans réponse",
        "Une fois par trimestre",
        "Taux de réactivation, qualité de la base",
        "Aucune visite depuis trois semaines, sans achat",
        "Dormants",
    ),
}
NAMES: tuple[str, ...] = tuple(DEFINITIONS)

# Neutral descriptive names: what a segment that fits no definition is, without a claim.
_BUYER_ACTION = (
    "Email",
    "Recommendations from the categories they bought",
    "Monthly",
    "Orders per customer",
    "Email",
    "Recommandations issues des catégories achetées",
    "Mensuel",
    "Commandes par client",
)
_BROWSER_ACTION = (
    "Onsite personalisation + newsletter",
    "Picks from the categories they viewed",
    "Weekly digest",
    "View-to-cart rate",
    "Personnalisation sur site + newsletter",
    "Sélection des catégories consultées",
    "Récapitulatif hebdomadaire",
    "Taux vue → panier",
)
_MIXED_ACTION = (
    "Newsletter",
    "Picks from the categories they viewed or bought",
    "Monthly",
    "Purchaser share",
    "Newsletter",
    "Sélection des catégories vues ou achetées",
    "Mensuel",
    "Part d'acheteurs",
)


def _neutral(name_fr: str, text: tuple[str, str], action: tuple[str, ...]) -> Action:
    channel, offer, timing, kpi, channel_fr, offer_fr, timing_fr, kpi_fr = action
    return Action(
        channel, offer, timing, kpi, text[0], channel_fr, offer_fr, timing_fr, kpi_fr, text[1],
        name_fr,
    )  # fmt: skip


NEUTRAL_ACTIONS: dict[str, Action] = {
    "Buyers, high basket": _neutral(
        "Acheteurs, panier élevé",
        ("Buyers with baskets above the median", "Acheteurs au panier supérieur à la médiane"),
        _BUYER_ACTION,
    ),
    "Buyers, mid basket": _neutral(
        "Acheteurs, panier moyen",
        ("Buyers with median baskets", "Acheteurs au panier médian"),
        _BUYER_ACTION,
    ),
    "Buyers, low basket": _neutral(
        "Acheteurs, petit panier",
        ("Buyers with baskets below the median", "Acheteurs au panier inférieur à la médiane"),
        _BUYER_ACTION,
    ),
    "Browsers, high activity": _neutral(
        "Visiteurs, activité forte",
        ("Non-buyers who browse more than most", "Non-acheteurs qui naviguent plus que la plupart"),
        _BROWSER_ACTION,
    ),
    "Browsers, mid activity": _neutral(
        "Visiteurs, activité moyenne",
        ("Non-buyers with typical browsing", "Non-acheteurs à la navigation habituelle"),
        _BROWSER_ACTION,
    ),
    "Browsers, low activity": _neutral(
        "Visiteurs, activité faible",
        ("Non-buyers who browse little", "Non-acheteurs qui naviguent peu"),
        _BROWSER_ACTION,
    ),
    "Mixed, mostly buyers": _neutral(
        "Mixte, surtout acheteurs",
        ("Buyers and non-buyers, buyers ahead", "Acheteurs et non-acheteurs, surtout acheteurs"),
        _MIXED_ACTION,
    ),
    "Mixed, mostly browsers": _neutral(
        "Mixte, surtout visiteurs",
        ("Buyers and non-buyers, browsers ahead", "Acheteurs et non-acheteurs, surtout visiteurs"),
        _MIXED_ACTION,
    ),
}
ACTIONS: dict[str, Action] = {**DEFINED_ACTIONS, **NEUTRAL_ACTIONS}
"""Every name's action: the defined names' and the neutral names' (the app translates both)."""


def transformed(features: pd.DataFrame) -> pd.DataFrame:
    """Model features on the scale the model sees them (log1p for heavy tails)."""
    out = features.loc[:, list(MODEL_FEATURES)].astype(float).copy()
    for column in LOG_FEATURES:
        out[column] = np.log1p(out[column])
    return out


def member_flags(features: pd.DataFrame) -> pd.DataFrame:
    """Per customer, the yes/no facts the definitions count (one column per fact)."""
    buyer = features["frequency"] >= 1
    recent_purchase = buyer & (features["days_since_last_purchase"] <= RECENT_DAYS)
    return pd.DataFrame(
        {
            "buyer_share": buyer,
            "repeat_share": features["frequency"] >= 2,
            "single_order_share": features["frequency"] == 1,
            "cart_share": features["n_carts"] >= 1,
            "recent_buyer_share": recent_purchase,
            "lapsed_buyer_share": buyer & ~recent_purchase,
            "new_buyer_share": buyer & (features["tenure_days"] <= RECENT_DAYS),
            "inactive_share": features["recency_days"] > INACTIVE_DAYS,
        },
        index=features.index,
    )


def z_profiles(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment (index), the mean of each model feature as a z-score against the month's
    customers (``z_<feature>``), on the model's scale: what twins are compared on."""
    t = transformed(features)
    mean, std = t.mean(), t.std(ddof=0).replace(0, 1.0)
    return ((t.assign(segment=labels).groupby("segment").mean() - mean) / std).add_prefix("z_")


def profile_segments(features: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per segment: size, share, revenue share, medians, z-scores and what the definitions use.

    Ratios compare a segment with the month: ``basket_ratio`` is the median order value of the
    segment's buyers over that of all buyers, ``spend_ratio`` the same for spend,
    ``views_ratio`` the median views over the median customer's.
    """
    if len(features) != len(labels):
        raise ValueError("one label per customer is required")
    frame = features.assign(segment=labels)
    z = z_profiles(features, labels)
    medians = frame.groupby("segment")[list(PROFILE_MEDIANS)].median().add_prefix("median_")
    grouped = frame.groupby("segment")
    buyers = (features["frequency"] >= 1).to_numpy()
    buyer_frame = frame[buyers].groupby("segment")
    month = BuyerMedians.of(features)
    month_views = float(features["n_views"].median())
    stats = pd.DataFrame({"size": grouped.size(), "revenue": grouped["monetary"].sum()})
    stats = stats.join(member_flags(features).assign(segment=labels).groupby("segment").mean())
    stats["buyer_aov"] = buyer_frame["avg_order_value"].median()
    spend = buyer_frame["monetary"].median().reindex(stats.index)
    stats["basket_ratio"] = _ratio(stats["buyer_aov"], month.basket)
    stats["spend_ratio"] = _ratio(spend, month.spend)
    stats["views_ratio"] = (medians["median_n_views"] + 1) / (month_views + 1)
    stats["share"] = stats["size"] / len(features)
    total_revenue = float(features["monetary"].sum())
    stats["revenue_share"] = stats["revenue"] / total_revenue if total_revenue > 0 else 0.0
    profiles = pd.concat([stats, medians, z], axis=1).reset_index()
    return profiles.sort_values("segment").reset_index(drop=True)


def _ratio(values: pd.Series, reference: float) -> pd.Series:
    """values / reference, 0 where a segment has no buyer or the month none.

    A month whose buyers all paid 0 (every price zero) has a reference of 0: each buyer
    segment is then *at* the month's median (1), not infinitely below or above it.
    """
    if reference > 0:
        return (values / reference).fillna(0.0)
    return values.where(values.isna(), 1.0).fillna(0.0)


def fits(profile: pd.Series, name: str) -> bool:
    """Whether a profile satisfies ``name``'s definition (neutral names always hold)."""
    if name in NEUTRAL_ACTIONS or _base_name(name) in NEUTRAL_ACTIONS:
        return True
    return bool(DEFINITIONS[name].holds(profile))


def fitting_names(profile: pd.Series) -> list[str]:
    return [name for name in DEFINITIONS if fits(profile, name)]


def neutral_name(profile: pd.Series) -> str:
    """A descriptive name that claims nothing beyond who is in the segment."""
    if profile.buyer_share >= MOST:
        if profile.basket_ratio >= HIGH_BASKET:
            return "Buyers, high basket"
        return "Buyers, low basket" if profile.basket_ratio <= LOW_BASKET else "Buyers, mid basket"
    if profile.buyer_share <= NON_BUYER_MAX:
        if profile.views_ratio >= HEAVY_BROWSING:
            return "Browsers, high activity"
        if profile.views_ratio <= LIGHT_BROWSING or profile.inactive_share > HALF:
            return "Browsers, low activity"
        return "Browsers, mid activity"
    return "Mixed, mostly buyers" if profile.buyer_share >= HALF else "Mixed, mostly browsers"


def _base_name(name: str) -> str:
    """Without qualifiers (" — fewer product views") or, in names stored before, a " (2)"."""
    return base_name(name).rsplit(" (", 1)[0]


IMPOSSIBLE = -1e6


def name_scores(profiles: pd.DataFrame) -> pd.DataFrame:
    """Segments × names: specificity + strength where the definition holds, else impossible."""
    rows = []
    for _, p in profiles.iterrows():
        rows.append(
            {
                name: d.specificity + d.strength(p) if d.holds(p) else IMPOSSIBLE
                for name, d in DEFINITIONS.items()
            }
        )
    return pd.DataFrame(rows, index=profiles["segment"], columns=list(DEFINITIONS))


def name_segments(
    profiles: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    kept: dict[int, str] | None = None,
) -> dict[int, str]:
    """A unique name per segment, true by its definition; neutral when no definition is free.

    ``kept`` (segment → last month's name of the same segment identity, from ``identity.py``)
    replaces the z-profile :func:`continuity` guess when segments were matched across months.
    Neutral names held by several segments are qualified by how the segments differ
    (:mod:`.distinct_names`), never numbered.
    """
    scores = name_scores(profiles)
    carried = kept
    if carried is None and previous is not None and len(previous):
        carried = continuity(profiles, previous)
    if carried:
        for segment, name in carried.items():
            if name in scores.columns and scores.loc[segment, name] > IMPOSSIBLE:
                scores.loc[segment, name] += CONTINUITY_BONUS
    matrix = scores.to_numpy()
    padded = np.hstack([matrix, np.full((len(matrix), len(matrix)), IMPOSSIBLE / 2)])
    rows, cols = linear_sum_assignment(padded, maximize=True)
    names: dict[int, str] = {}
    for r, c in zip(rows, cols, strict=True):
        if c < matrix.shape[1] and matrix[r, c] > IMPOSSIBLE / 2:
            names[int(scores.index[r])] = str(scores.columns[c])
    by_segment = profiles.set_index("segment")
    for segment in scores.index:
        if int(segment) not in names:
            names[int(segment)] = neutral_name(by_segment.loc[segment])
    return dict(sorted(distinct_names(profiles, names).items()))


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


def action_for(name: str) -> Action:
    """The action of a name; a qualified neutral name ("Browsers, low activity — fewer product
    views") shares its base name's action, the qualifiers translated into the French name."""
    if name in ACTIONS:
        return ACTIONS[name]
    base = ACTIONS[_base_name(name)]
    if base_name(name) != name:
        return Action(**{**asdict(base), "name_fr": base.name_fr + french_qualifiers(name)})
    suffix = name[len(_base_name(name)) :]  # " (2)" in a name stored before qualifiers
    return Action(**{**asdict(base), "name_fr": base.name_fr + suffix})


def describe(
    profiles: pd.DataFrame, names: dict[int, str], purity: pd.Series | None = None
) -> pd.DataFrame:
    """Profiles with name, French name, definition, description, action and purity columns."""
    out = profiles.copy()
    out["name"] = out["segment"].map(names)
    out["purity"] = out["segment"].map(purity) if purity is not None else np.nan
    actions = pd.DataFrame([{"name": n, **asdict(action_for(n))} for n in set(names.values())])
    out = out.merge(actions, on="name", how="left")
    out["definition"] = out["name"].map(
        lambda n: DEFINITIONS[n].text if n in DEFINITIONS else "neutral: no definition claimed"
    )
    return out
