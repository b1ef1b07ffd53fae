"""The same customers of a test population observed over consecutive months (issue 25).

:func:`populations.simulate` draws one as-of month. Identity of segments across months needs the
same customers seen again: every month re-draws their events (a new seed: sessions, baskets and
noise are new draws), from the *same* planted behaviour and
the same personal habits (each customer's jitter of the behaviour's parameters is drawn from one
stream for all months, as a real customer's habits persist),
except for the customers a :class:`Switch` moves to another behaviour from a given month on. A
customer whose planted behaviour is unchanged between two months did not change; the segments
should say so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from amazing_assets.lib.months import add_months
from amazing_assets_tests.support.populations import (
    COSMETICS,
    ELECTRONICS,
    FASHION,
    SUITE,
    Events,
    PopulationSpec,
    per_user_features,
    simulate,
)

MONTH_SEED_STEP = 1_000
TRAIT_SEED_OFFSET = 500  # a customer's habits: the same stream every month


@dataclass(frozen=True)
class Switch:
    """From month ``month`` (0 = the first) on, ``share`` of ``source``'s customers behave as
    ``target`` (both must be in the population's mix)."""

    source: str
    target: str
    share: float
    month: int


def planted_codes(spec: PopulationSpec) -> np.ndarray:
    """The behaviour index of each customer exactly as :func:`simulate` draws it."""
    rng = np.random.default_rng(spec.seed)
    behaviours = spec.behaviours()
    shares = np.array([spec.mix[b.name] for b in behaviours], dtype=float)
    return rng.choice(len(behaviours), size=spec.customers, p=shares / shares.sum())


def monthly_codes(
    spec: PopulationSpec, months: int, switches: tuple[Switch, ...] = ()
) -> list[np.ndarray]:
    """Per month, each customer's behaviour index (switches applied from their month on)."""
    names = [b.name for b in spec.behaviours()]
    codes = planted_codes(spec)
    rng = np.random.default_rng(spec.seed + 7)
    out = []
    for month in range(months):
        codes = codes.copy()
        for switch in switches:
            if switch.month == month:
                members = np.flatnonzero(codes == names.index(switch.source))
                chosen = rng.random(len(members)) < switch.share
                codes[members[chosen]] = names.index(switch.target)
        out.append(codes)
    return out


def _rolled(previous: Events, fresh: Events) -> Events:
    """The window ending one month after ``previous``'s: its events still inside the new window
    (the overlap of two rolling windows) plus ``fresh``'s events of the newest month."""
    start, end = fresh.window
    newest = datetime(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1, tzinfo=UTC)
    keep_old = previous.time >= int(start.timestamp())
    keep_new = fresh.time >= int(newest.timestamp())
    offset = int(previous.session.max(initial=-1)) + 1

    def join(name: str, shift: int = 0) -> np.ndarray:
        return np.concatenate(
            [getattr(previous, name)[keep_old], getattr(fresh, name)[keep_new] + shift]
        )

    return Events(
        user=join("user"),
        session=join("session", offset),
        time=join("time"),
        kind=join("kind"),
        product=join("product"),
        price=join("price"),
        category=join("category"),
        brand=join("brand"),
        behaviour=fresh.behaviour,
        window=fresh.window,
        store=fresh.store,
    )


def simulate_months(
    spec: PopulationSpec,
    months: int = 3,
    switches: tuple[Switch, ...] = (),
    rolling: bool = True,
) -> list[tuple[str, pd.DataFrame]]:
    """``(as_of, per-user features)`` for ``months`` consecutive months from ``spec.as_of``.

    Windows roll as the pipeline's do: month i's window keeps the events of month i-1's window
    that still fall inside it and adds a fresh draw of the newest month, from each customer's
    behaviour of month i. A customer with no event in a window is absent that month. The
    ``user_key`` of a customer is the same in every month; ``behaviour`` is that month's
    planted behaviour. ``rolling=False`` re-draws each whole window instead (no event shared
    between months: every behaviour is stationary by construction, but each month's noise is
    new, a harsher test than real overlapping windows).
    """
    out = []
    events: Events | None = None
    for month, codes in enumerate(monthly_codes(spec, months, switches)):
        as_of = add_months(spec.as_of, month)
        month_spec = replace(spec, as_of=as_of, seed=spec.seed + MONTH_SEED_STEP * month)
        fresh = simulate(month_spec, codes=codes, trait_seed=spec.seed + TRAIT_SEED_OFFSET)
        events = fresh if events is None or not rolling else _rolled(events, fresh)
        features = per_user_features(events)
        present = features["n_events"].to_numpy() > 0
        out.append((as_of, features[present].reset_index(drop=True)))
    return out


STEADY = PopulationSpec(
    "steady-three-months",
    20_000,
    {
        "one_visit_browser": 0.35,
        "heavy_researcher": 0.15,
        "cart_abandoner": 0.18,
        "regular_buyer": 0.15,
        "bargain_repeater": 0.12,
        "high_spender": 0.05,
    },
    FASHION,
    seed=25,
    # Stationary under rolling windows: activity spread over the whole window, so each month
    # adds what it drops (a "one visit in the last 30 days" customer would not stay one).
    overrides={
        "one_visit_browser": {"days_ago": (0.0, 92.0), "single_session": False, "sessions": 1.5}
    },
)
"""Written for issue 25: six behaviours that stay put for three months of rolling windows."""

MONTHLY_SUITE: tuple[PopulationSpec, ...] = (
    STEADY,
    *(
        replace(s, customers=min(s.customers, 30_000))
        for s in SUITE
        if s.name in ("buyer-heavy", "seven-cosmetics", "few-buyers", "seven-electronics-seed14")
    ),
)
"""Populations run over three months by the identity benchmark and test (independent generator's
populations capped at 30 k customers so three months stay quick)."""

__all__ = ["COSMETICS", "ELECTRONICS", "MONTHLY_SUITE", "STEADY", "Switch", "simulate_months"]
