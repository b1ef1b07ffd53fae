"""One colour per segment identity, the same on every page, month and language (issue 27).

Cluster numbers are refitted every month and names follow thresholds, so neither can key a
colour: a segment's ``segment_id`` (``cluster_profiles``, matched month to month by member
overlap) can. Colours are dealt over the warehouse's whole history, oldest id first: each id
takes the first palette colour that no *smaller* id it ever shared a month with holds.

Why this rule: the pipeline gives a new segment the next unused id (``max + 1``) and an ended id
never comes back, so a month's ids are only ever joined by larger ones. An id's colour therefore
depends on smaller ids only and never changes when months are added, and two segments of the
same month never share a colour while a month holds at most :data:`PALETTE`'s length of
segments (greedy colouring of intervals in order of their start is optimal). Past that, the
least-shared colour is reused. No Dagster import: the app and its tests use it as is.
"""

from __future__ import annotations

from collections.abc import Iterable

from bokeh.palettes import Category20_20

PALETTE: tuple[str, ...] = (*Category20_20[0::2], *Category20_20[1::2])
"""Category10's strong colours first (k ≤ 10 segments a month get those), then their light
partners: 20 distinct colours."""

NO_SEGMENT_COLOUR = "#8c8c8c"
"""Grey for what is no segment identity: new or gone customers on the migration Sankey."""


def identity_colours(months: Iterable[Iterable[int]]) -> dict[int, str]:
    """Segment id → colour, from the ids present in each month (any order, duplicates fine)."""
    together: dict[int, set[int]] = {}
    for ids in months:
        present = {int(i) for i in ids}
        for i in present:
            together.setdefault(i, set()).update(present - {i})
    colours: dict[int, str] = {}
    for i in sorted(together):
        taken = [colours[j] for j in together[i] if j < i]
        free = [c for c in PALETTE if c not in taken]
        colours[i] = free[0] if free else min(PALETTE, key=taken.count)
    return colours


def colour_of(colours: dict[int, str], segment_id: int | None) -> str:
    """The id's colour; grey for no identity (``None`` or an id outside the history)."""
    if segment_id is None:
        return NO_SEGMENT_COLOUR
    return colours.get(int(segment_id), NO_SEGMENT_COLOUR)
