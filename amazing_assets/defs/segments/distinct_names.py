"""Two segments never share a name: each twin gets a qualifier that says how it differs.

Defined names are assigned one-to-one; only the neutral names ("Browsers, low activity") can
fall to two segments at once, typically in degenerate months (no buyers: every segment is a
browsing one). Numbering them ("(2)", "(3)") told a marketer nothing, so the twins are told
apart by the behaviour where they differ most: the one lowest on that trait gets its "lower"
wording, the highest its "higher" wording, one in between "average"; more than three twins
split the middle ones again on the next trait. Traits are the segment's mean z-scores (the
model's own scale), so ties are practically impossible; if every behaviour trait but one ties,
that one (or the size) decides.

Segments that tie on every behaviour trait are one behaviour twice: no name could say how they
differ, so they are not named apart but merged into one segment before anyone names them
(:func:`indistinguishable`, applied by ``chain.merge_twins`` in the segment stage, where the
assignments are made). Numbered names ("group 1", "(2)") are never given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
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
BEHAVIOUR_TRAITS: tuple[Trait, ...] = tuple(t for t in TRAITS if t.column != "share")
"""What a segment's members do (the size is not a behaviour: it never makes two segments two)."""
TIE = 1e-9
"""Two mean z-scores closer than this tie (z units: far below any difference worth a word)."""

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
    words = [FRENCH.get(q, q) for q in qualifiers.split(", ")]
    return SEPARATOR + ", ".join(words)


def indistinguishable(profiles: pd.DataFrame) -> dict[int, int]:
    """Segments that tie on every behaviour trait, each mapped to the segment it merges into
    (the lowest-numbered of its twins); ``{}`` when every segment behaves in its own way.

    Ties are chained (a ties b, b ties c: one segment), so after the merge any two segments
    differ by more than :data:`TIE` on at least one trait, which :func:`distinct_names` needs.
    """
    columns = [t.column for t in BEHAVIOUR_TRAITS if t.column in profiles.columns]
    if len(profiles) < 2 or not columns:
        return {}
    segments = [int(s) for s in profiles["segment"]]
    values = profiles[columns].to_numpy(dtype=float)
    parent = list(range(len(segments)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(segments)):
        for j in range(i + 1, len(segments)):
            a, b = values[i], values[j]
            # An unknown mean (NaN) tells nothing apart; ``distinct_names`` skips it too.
            same = np.isnan(a) | np.isnan(b) | (np.abs(a - b) <= TIE)
            if same.all():
                parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(segments)):
        groups[root(i)].append(segments[i])
    return {s: min(g) for g in groups.values() if len(g) > 1 for s in g if s != min(g)}


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
        for segment, qualifiers in _split(by_segment.loc[sorted(segments)], traits, traits).items():
            out[segment] = name + SEPARATOR + ", ".join(qualifiers)
    return out


def _split(group: pd.DataFrame, traits: list[Trait], every: list[Trait]) -> dict[int, list[str]]:
    """Qualifiers per segment of ``group`` (two or more), unique within the group: on the trait
    of ``traits`` where the group differs most, else on any of ``every`` where it differs."""
    if len(group) == 1:
        return {int(group.index[0]): []}
    usable = _differing(group, traits) or _differing(group, every)
    if not usable:
        raise ValueError(
            f"segments {sorted(int(s) for s in group.index)} tie on every trait: they are one "
            "segment (merge them before naming: distinct_names.indistinguishable)"
        )
    spreads = {t.column: _spread(group, t) for t in usable}
    trait = max(usable, key=lambda t: spreads[t.column])
    order = group[trait.column].sort_values(kind="stable").index
    out = {int(order[0]): [trait.lower], int(order[-1]): [trait.higher]}
    middle = order[1:-1]
    if len(middle) == 1:
        out[int(middle[0])] = [trait.middle]
    elif len(middle) > 1:
        rest = [t for t in usable if t is not trait]
        for segment, more in _split(group.loc[middle], rest, every).items():
            out[segment] = [trait.middle, *more]
    return out


def _spread(group: pd.DataFrame, trait: Trait) -> float:
    values = group[trait.column]
    return float(values.max() - values.min()) if values.notna().all() else 0.0


def _differing(group: pd.DataFrame, traits: list[Trait]) -> list[Trait]:
    return [t for t in traits if _spread(group, t) > TIE]
