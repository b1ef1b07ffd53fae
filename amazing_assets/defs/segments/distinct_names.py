"""Two segments never share a name: each twin gets a qualifier that says how it differs.

Defined names are assigned one-to-one; only the neutral names ("Browsers, low activity") can
fall to two segments at once, typically in degenerate months (no buyers: every segment is a
browsing one). Numbering them ("(2)", "(3)") told a marketer nothing, so the twins are told
apart by the behaviour where they differ most: the one lowest on that trait gets its "lower"
wording, the highest its "higher" wording, one in between "average"; more than three twins
split the middle ones again on the next trait. Traits are the segment's mean z-scores (the
model's own scale), so ties are practically impossible; if every trait ties, the size decides,
and as a last resort an ordinal ("group 1"), so the names are unique by construction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

SEPARATOR = " — "
"""Between a base name and its qualifiers: "Browsers, low activity — fewer product views"."""


@dataclass(frozen=True)
class Trait:
    """A profile column and how to say, in English and French, lower / average / higher."""

    column: str
    lower: str
    middle: str
    higher: str
    lower_fr: str
    middle_fr: str
    higher_fr: str


TRAITS: tuple[Trait, ...] = (
    Trait(
        "z_n_views",
        "fewer product views",
        "average product views",
        "more product views",
        "moins de produits vus",
        "produits vus dans la moyenne",
        "plus de produits vus",
    ),
    Trait(
        "z_recency_days",
        "seen more recently",
        "seen on average",
        "last seen longer ago",
        "venus plus récemment",
        "venus dans la moyenne",
        "venus il y a plus longtemps",
    ),
    Trait(
        "z_n_carts",
        "fewer carts",
        "average carts",
        "more carts",
        "moins de paniers",
        "paniers dans la moyenne",
        "plus de paniers",
    ),
    Trait(
        "z_frequency",
        "fewer orders",
        "average orders",
        "more orders",
        "moins de commandes",
        "commandes dans la moyenne",
        "plus de commandes",
    ),
    Trait(
        "z_monetary",
        "lower spend",
        "average spend",
        "higher spend",
        "dépense plus faible",
        "dépense dans la moyenne",
        "dépense plus élevée",
    ),
    Trait(
        "z_avg_order_value",
        "smaller baskets",
        "average baskets",
        "bigger baskets",
        "paniers plus petits",
        "paniers dans la moyenne",
        "paniers plus gros",
    ),
    Trait(
        "z_view_to_cart_rate",
        "carts less often",
        "carts as often as most",
        "carts more often",
        "mettent moins souvent au panier",
        "mettent au panier comme la plupart",
        "mettent plus souvent au panier",
    ),
    Trait(
        "z_cart_to_purchase_rate",
        "converts carts less",
        "converts carts as most",
        "converts carts more",
        "convertissent moins leurs paniers",
        "convertissent leurs paniers comme la plupart",
        "convertissent plus leurs paniers",
    ),
    Trait(
        "share",
        "smaller group",
        "mid-sized group",
        "larger group",
        "groupe plus petit",
        "groupe de taille moyenne",
        "groupe plus grand",
    ),
)
FRENCH: dict[str, str] = {
    english: french
    for t in TRAITS
    for english, french in (
        (t.lower, t.lower_fr),
        (t.middle, t.middle_fr),
        (t.higher, t.higher_fr),
    )
}


def base_name(name: str) -> str:
    """The name without its qualifiers."""
    return name.split(SEPARATOR, 1)[0]


def french_qualifiers(name: str) -> str:
    """The qualifier part of ``name`` in French ("" when it has none), separator included."""
    _, sep, qualifiers = name.partition(SEPARATOR)
    if not sep:
        return ""
    words = [FRENCH.get(q, q.replace("group", "groupe")) for q in qualifiers.split(", ")]
    return SEPARATOR + ", ".join(words)


def distinct_names(profiles: pd.DataFrame, names: dict[int, str]) -> dict[int, str]:
    """``names`` with every name held by several segments qualified so that each is unique."""
    holders: dict[str, list[int]] = defaultdict(list)
    for segment, name in names.items():
        holders[name].append(segment)
    by_segment = profiles.set_index("segment")
    out = dict(names)
    for name, segments in holders.items():
        if len(segments) < 2:
            continue
        traits = [t for t in TRAITS if t.column in by_segment.columns]
        for segment, qualifiers in _split(by_segment.loc[sorted(segments)], traits).items():
            out[segment] = name + SEPARATOR + ", ".join(qualifiers)
    return out


def _split(group: pd.DataFrame, traits: list[Trait]) -> dict[int, list[str]]:
    """Qualifiers per segment of ``group`` (two or more), unique within the group."""
    if len(group) == 1:
        return {int(group.index[0]): []}
    spreads = {
        t.column: float(group[t.column].max() - group[t.column].min())
        for t in traits
        if group[t.column].notna().all()
    }
    usable = [t for t in traits if spreads.get(t.column, 0.0) > 1e-9]
    if not usable:  # identical on every trait: an ordinal is all that is left to say
        return {int(s): [f"group {i + 1}"] for i, s in enumerate(group.index)}
    trait = max(usable, key=lambda t: spreads[t.column])
    order = group[trait.column].sort_values(kind="stable").index
    out = {int(order[0]): [trait.lower], int(order[-1]): [trait.higher]}
    middle = order[1:-1]
    if len(middle) == 1:
        out[int(middle[0])] = [trait.middle]
    elif len(middle) > 1:
        rest = [t for t in usable if t is not trait]
        for segment, more in _split(group.loc[middle], rest).items():
            out[segment] = [trait.middle, *more]
    return out
