"""Is this month comparable to the last? A verdict from facts about the data, not the market.

A marketer reads a month-to-month change as a market shift. Some changes come from the data
instead: an export cut short, a tracking outage, a bot burst, a category remap (December 2019
renumbered ~80 % of ``category_id``), a feature window still filling up. Each such cause is an
*aspect* with a measured figure, the previous month's figure and a threshold; the verdict is
``comparable`` when every aspect holds, ``caution`` when one does not (the app then labels
changes as possibly coming from the data, and alerts are held), and ``first_month`` when there
is nothing to compare with.

Pure logic on small per-month facts (:class:`MonthFacts`), so every rule is tested without
Spark or Dagster; ``facts.py`` computes the facts from the warehouse.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

import pandas as pd

from amazing_assets.lib.months import add_months

COMPARABLE, CAUTION, FIRST_MONTH = "comparable", "caution", "first_month"
OK, WARN, NOT_MEASURED = "ok", "warn", "not_measured"

ASPECTS: tuple[str, ...] = (
    "days_covered",
    "event_volume",
    "bot_share",
    "duplicate_share",
    "defect_share",
    "category_remap",
    "window_months",
)
"""In the order the app lists them."""

VERDICT_COLUMNS: tuple[str, ...] = (
    "month",
    "verdict",
    "aspect",
    "status",
    "measured",
    "previous",
    "threshold",
)


@dataclass(frozen=True)
class VerdictRules:
    """Thresholds of the verdict. Each names the change that a market shift rarely makes and an
    export defect often does; documented with their reasons in docs/data-quality.md."""

    min_days_covered: float = 0.9
    """Share of the month's calendar days that hold events: a month cut short, or a store that
    opened mid-month, covers fewer (REES46 months cover every day)."""
    max_volume_factor: float = 2.0
    """The month's events against last month's, as a factor either way: the real months move
    by ×0.83 to ×1.59 (November's peak); halving or doubling is an outage or a cut export
    more often than a market."""
    max_share_change: float = 0.02
    """Change, in points of the raw rows, of the share dropped as bots, duplicates or defects:
    in the real data each share is stable within a point from month to month."""
    max_category_remap: float = 0.05
    """Share of the month's events on products seen last month whose category changed."""


@dataclass(frozen=True)
class MonthFacts:
    """What the verdict compares, for one month (one row of ``month_verdict``'s facts)."""

    month: str
    raw_rows: int
    events: int
    days_with_events: int
    bot_rows: int = 0
    duplicate_rows: int = 0
    defect_rows: int = 0
    category_remap: float | None = None
    """Share of events on products seen last month whose category changed (None: no products
    in common, or no previous month)."""
    window_months_with_events: int = 1
    window_months: int = 1

    @property
    def days_in_month(self) -> int:
        year, month = (int(part) for part in self.month.split("-"))
        return calendar.monthrange(year, month)[1]

    def share(self, rows: int) -> float:
        return rows / self.raw_rows if self.raw_rows else 0.0


@dataclass(frozen=True)
class Finding:
    aspect: str
    status: str
    measured: float
    previous: float = math.nan
    threshold: float = math.nan


@dataclass(frozen=True)
class Verdict:
    month: str
    verdict: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        return self.verdict == COMPARABLE

    @property
    def warnings(self) -> list[str]:
        return [f.aspect for f in self.findings if f.status == WARN]


def relative_change(now: float, before: float) -> float:
    if before == 0:
        return 0.0 if now == 0 else math.inf
    return now / before - 1.0


def judge(current: MonthFacts, previous: MonthFacts | None, rules: VerdictRules) -> Verdict:
    """The month's findings and verdict; ``previous`` is the calendar month before, or None."""
    coverage = current.days_with_events / current.days_in_month
    covered = OK if coverage >= rules.min_days_covered else WARN
    findings = [Finding("days_covered", covered, coverage, threshold=rules.min_days_covered)]
    # "2 of 3 months": the months of the feature window holding events, of its length.
    filled, window = current.window_months_with_events, current.window_months
    window_finding = Finding(
        "window_months", OK if filled >= window else WARN, float(filled), threshold=float(window)
    )
    if previous is None:
        findings += [Finding(a, NOT_MEASURED, math.nan) for a in ASPECTS[1:-1]]
        return Verdict(current.month, FIRST_MONTH, [*findings, window_finding])
    change = relative_change(current.events, previous.events)
    factor = rules.max_volume_factor
    steady = 1 / factor - 1 <= change <= factor - 1
    findings.append(
        Finding("event_volume", OK if steady else WARN, change, float(previous.events), factor)
    )
    for aspect, rows in (
        ("bot_share", lambda f: f.bot_rows),
        ("duplicate_share", lambda f: f.duplicate_rows),
        ("defect_share", lambda f: f.defect_rows),
    ):
        now, before = current.share(rows(current)), previous.share(rows(previous))
        moved = abs(now - before) > rules.max_share_change
        findings.append(Finding(aspect, WARN if moved else OK, now, before, rules.max_share_change))
    remap = current.category_remap
    findings.append(
        Finding("category_remap", NOT_MEASURED, math.nan)
        if remap is None
        else Finding(
            "category_remap",
            WARN if remap > rules.max_category_remap else OK,
            remap,
            threshold=rules.max_category_remap,
        )
    )
    findings.append(window_finding)
    verdict = CAUTION if any(f.status == WARN for f in findings) else COMPARABLE
    return Verdict(current.month, verdict, findings)


def verdicts(
    facts: Sequence[MonthFacts], before: MonthFacts | None, rules: VerdictRules
) -> list[Verdict]:
    """Each month of ``facts`` (sorted) against the calendar month before it: the previous
    element, or ``before`` for the first; a month whose predecessor is missing is a first month
    (nothing to compare with), not a comparison with an older month."""
    known = {f.month: f for f in ([before] if before else [])} | {f.month: f for f in facts}
    ordered = sorted(facts, key=attrgetter("month"))
    return [judge(f, known.get(add_months(f.month, -1)), rules) for f in ordered]


def verdict_table(judged: Sequence[Verdict]) -> pd.DataFrame:
    """One row per (month, aspect), every row carrying its month's verdict."""
    rows = [
        {
            "month": v.month,
            "verdict": v.verdict,
            "aspect": f.aspect,
            "status": f.status,
            "measured": float(f.measured),
            "previous": float(f.previous),
            "threshold": float(f.threshold),
        }
        for v in judged
        for f in v.findings
    ]
    return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))


def category_remap_share(current: pd.DataFrame, previous: pd.DataFrame | None) -> float | None:
    """Share of ``current``'s events on products also seen in ``previous`` whose category is not
    the one they had there. Both frames: ``product_id, category_id, events`` (one row per pair);
    a product's category in a month is its most frequent one (ties: the smallest id)."""
    if previous is None or current.empty or previous.empty:
        return None
    now, before = _main_category(current), _main_category(previous)
    common = now.join(before, how="inner", lsuffix="_now", rsuffix="_before")
    if common.empty:
        return None
    changed = common["category_id_now"] != common["category_id_before"]
    events = common["events_now"]
    return float(events[changed].sum() / events.sum()) if events.sum() else None


def _main_category(pairs: pd.DataFrame) -> pd.DataFrame:
    pairs = pairs.dropna(subset=["category_id"])
    ordered = pairs.sort_values(
        ["product_id", "events", "category_id"], ascending=[True, False, True]
    )
    main = ordered.drop_duplicates("product_id").set_index("product_id")[["category_id"]]
    return main.assign(events=pairs.groupby("product_id")["events"].sum())
