"""Each segment name's measured definition, in plain French and English.

The pipeline names a segment only when its measured profile satisfies the name's written
definition (``amazing_assets.defs.segments.profiles.DEFINITIONS``); the stored ``definition``
column is the rule in shorthand ("≥80% bought; …"). A marketer reads sentences: these are the
same rules, built from the same threshold constants, so a threshold changed in the pipeline
changes the sentence too (a test holds every name to a sentence in both languages).
"""

from __future__ import annotations

from amazing_assets.defs.segments import profiles as rules
from panel_app.i18n import format_number, format_percent


def _pct(share: float, language: str) -> str:
    return format_percent(share, language, 0)


def _x(factor: float, language: str) -> str:
    return format_number(factor, language, 2 if factor < 1 else 1)


def plain_definitions(language: str) -> dict[str, str]:
    """Base name → its definition as a sentence in ``language`` (``fr`` or ``en``)."""
    most, half, few = (_pct(s, language) for s in (rules.MOST, rules.HALF, rules.NON_BUYER_MAX))
    recent, inactive = f"{rules.RECENT_DAYS:.0f}", f"{rules.INACTIVE_DAYS:.0f}"
    high_spend, high_basket = _x(rules.HIGH_SPEND, language), _x(rules.HIGH_BASKET, language)
    low_basket, low_cart = _x(rules.LOW_BASKET, language), _pct(rules.LOW_CART, language)
    often = format_percent(rules.CARTS_OFTEN, language, 0)
    rarely = format_percent(rules.CARTS_RARELY, language, 0)
    sessions, views = rules.MANY_SESSIONS, rules.MANY_VIEWS
    if language == "fr":
        return {
            "Champions": f"Au moins {most} ont acheté ; au moins {half} ont commandé deux fois ou "
            f"plus et acheté dans les {recent} derniers jours ; dépense médiane d'au moins "
            f"{high_spend} fois celle des acheteurs du mois.",
            "Big spenders": f"Au moins {most} ont acheté ; panier médian d'au moins "
            f"{high_basket} fois celui des acheteurs du mois.",
            "At risk": f"Au moins {most} sont d'anciens acheteurs sans achat depuis {recent} "
            "jours.",
            "New customers": f"Au moins {most} ont acheté ; au moins {half} sont arrivés et ont "
            f"acheté dans les {recent} derniers jours.",
            "Bargain hunters": f"Au moins {most} ont acheté ; au moins {half} ont commandé deux "
            f"fois ou plus ; panier médian d'au plus {low_basket} fois celui des acheteurs.",
            "Loyal customers": f"Au moins {most} ont acheté ; au moins {half} ont commandé deux "
            f"fois ou plus et acheté dans les {recent} derniers jours.",
            "One-time buyers": f"Au moins {most} ont acheté ; au moins {half} une seule fois.",
            "Cart abandoners": f"Au plus {few} ont acheté ; au moins {most} ont mis un produit "
            f"au panier ; taux médian vue → panier d'au moins {often}.",
            "Dormant": f"Au plus {few} ont acheté ; au moins {most} ne sont pas venus depuis "
            f"{inactive} jours.",
            "Window shoppers": f"Au plus {few} ont acheté ; en médiane au moins {sessions} "
            f"visites et {views} produits vus, taux vue → panier d'au plus {rarely} ; au moins "
            f"{half} venus dans les {inactive} derniers jours.",
            "Occasional browsers": f"Au plus {few} ont acheté ; au plus {low_cart} ont mis un "
            f"produit au panier ; en médiane au plus {rules.FEW_SESSIONS} visites et moins de "
            f"{views} produits vus ; au moins {half} venus dans les {inactive} derniers jours.",
        }
    return {
        "Champions": f"At least {most} bought; at least {half} ordered twice or more and bought "
        f"in the last {recent} days; median spend at least {high_spend} times the month's "
        "buyers'.",
        "Big spenders": f"At least {most} bought; median basket at least {high_basket} times the "
        "month's buyers'.",
        "At risk": f"At least {most} are past buyers with no purchase in the last {recent} days.",
        "New customers": f"At least {most} bought; at least {half} arrived and bought in the last "
        f"{recent} days.",
        "Bargain hunters": f"At least {most} bought; at least {half} ordered twice or more; "
        f"median basket at most {low_basket} times the buyers'.",
        "Loyal customers": f"At least {most} bought; at least {half} ordered twice or more and "
        f"bought in the last {recent} days.",
        "One-time buyers": f"At least {most} bought; at least {half} exactly once.",
        "Cart abandoners": f"At most {few} bought; at least {most} added to a cart; median "
        f"view-to-cart rate at least {often}.",
        "Dormant": f"At most {few} bought; at least {most} have not visited for {inactive} days.",
        "Window shoppers": f"At most {few} bought; a median of at least {sessions} visits and "
        f"{views} product views, view-to-cart rate at most {rarely}; at least {half} visited in "
        f"the last {inactive} days.",
        "Occasional browsers": f"At most {few} bought; at most {low_cart} added to a cart; a "
        f"median of at most {rules.FEW_SESSIONS} visits and fewer than {views} product views; "
        f"at least {half} visited in the last {inactive} days.",
    }


NEUTRAL = {
    "fr": "Nom descriptif : le segment ne remplit aucune définition mesurée, le nom ne "
    "revendique rien de plus que ses médianes.",
    "en": "A descriptive name: the segment meets no measured definition; the name claims no more "
    "than its medians.",
}


def definition_sentence(name: str, language: str) -> str:
    """The plain definition of a stored (English) segment name, qualifiers included."""
    base = rules.base_name(name).rsplit(" (", 1)[0]
    return plain_definitions(language).get(base, NEUTRAL[language])
