"""A third generator family (issue 26): customers as processes in continuous time.

:mod:`.populations` draws each customer from an archetype's *counts* (so many sessions, so many
orders, within given days). Here nothing is counted in advance: each kind of customer is a set
of processes, and what a month shows is whatever those processes happened to produce.

* **Visits** are a Poisson process whose personal rate is Gamma-distributed across the
  customers of a kind (``heterogeneity`` is the Gamma's coefficient of variation), modulated by
  the calendar: weekends busier, one promotion week busier still (thinning).
* **Life-cycle stages**: an *established* customer can visit over the whole window; a *new*
  one arrives inside it (first visit within ``stage_days``); a *leaving* one stops inside it
  (no visit after ``stage_days`` ago).
* **Channels**: each customer splits visits between the app (short sessions, evenings) and the
  web (longer, daytime) in a personal proportion: a nuisance the segments must not split on
  (no model feature sees the channel, only its effect on views and hours).
* **Orders**: each visit ends in an order with a personal Beta-distributed probability; a
  buying kind's customer who never ordered in the window has their last visit turned into an
  order (they are seen as buyers: a segment can only know what the data shows).

The output is an :class:`~.populations.Events`, so :func:`~.populations.per_user_features`
computes the pipeline's per-user table from it, and the robustness benchmark scores it as it
scores the archetype populations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from amazing_assets_tests.support.populations import (
    COSMETICS,
    DAY,
    ELECTRONICS,
    EVENT_GAP_SECONDS,
    FASHION,
    Events,
    Store,
    catalogue,
    window_bounds,
)

WEEK_DAYS = 7.0
WEEKEND_LIFT = 1.4  # visit intensity on Saturdays and Sundays against weekdays
PROMO_LIFT = 1.8  # during one promotion week of the window
REMOVE_SHARE = 0.25  # of the carted items not bought


@dataclass(frozen=True)
class Kind:
    """One kind of customer: its processes' parameters (means over its customers)."""

    name: str
    visits_per_week: float
    views_per_visit: float
    cart_per_view: float
    order_per_visit: float = 0.0  # 0: never buys
    items_per_order: float = 1.0
    price_level: float = 1.0  # of ordered items, multiple of the store's median price
    stage: str = "established"  # "established", "new" or "leaving"
    stage_days: tuple[float, float] = (0.0, 0.0)  # days ago: arrival (new) or last visit (leaving)
    app_share: float = 0.5  # mean share of visits from the app

    @property
    def buys(self) -> bool:
        return self.order_per_visit > 0


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("drifter", 0.12, 2.5, 0.01),
        Kind("researcher", 1.4, 9.0, 0.02, app_share=0.3),
        Kind("hesitant_carter", 0.5, 5.0, 0.3, app_share=0.7),
        Kind("fresh_browser", 0.9, 4.0, 0.04, stage="new", stage_days=(3.0, 20.0)),
        Kind("first_order_newcomer", 0.7, 4.0, 0.15, 0.45, stage="new", stage_days=(3.0, 25.0)),
        Kind("occasional_buyer", 0.15, 4.0, 0.15, 0.6),
        Kind("habitual_buyer", 0.8, 5.0, 0.2, 0.4, items_per_order=1.5),
        Kind("deal_stocker", 0.9, 6.0, 0.3, 0.5, items_per_order=3.0, price_level=0.3),
        Kind("premium_regular", 0.6, 6.0, 0.2, 0.45, items_per_order=1.5, price_level=6.0),
        Kind("fading_buyer", 0.6, 4.0, 0.15, 0.35, stage="leaving", stage_days=(40.0, 80.0)),
        Kind("gone_browser", 0.35, 3.0, 0.02, stage="leaving", stage_days=(50.0, 85.0)),
    )
}

FITTING_NAMES: dict[str, frozenset[str]] = {
    "drifter": frozenset({"Occasional browsers", "Browsers, low activity"}),
    "researcher": frozenset({"Window shoppers", "Browsers, high activity"}),
    "hesitant_carter": frozenset({"Cart abandoners"}),
    "fresh_browser": frozenset({"Occasional browsers", "Browsers, low activity"}),
    "first_order_newcomer": frozenset({"New customers", "One-time buyers"}),
    "occasional_buyer": frozenset({"One-time buyers", "Loyal customers"}),
    "habitual_buyer": frozenset({"Loyal customers", "Champions"}),
    "deal_stocker": frozenset({"Bargain hunters", "Loyal customers"}),
    "premium_regular": frozenset({"Big spenders", "Champions"}),
    "fading_buyer": frozenset({"At risk"}),
    "gone_browser": frozenset({"Dormant", "Browsers, low activity"}),
}
"""What a truthful segment name for each kind can be (scored as the archetype family's)."""


@dataclass(frozen=True)
class LifecycleSpec:
    """One population of the family: who is in it (kind → share), how many, which store, how
    heterogeneous each kind's customers are (coefficient of variation of their rates)."""

    name: str
    customers: int
    mix: dict[str, float]
    store: Store = ELECTRONICS
    heterogeneity: float = 0.6
    seed: int = 0
    as_of: str = "2019-10"
    window_months: int = 3
    overrides: dict[str, dict] = field(default_factory=dict)

    @property
    def noise(self) -> float:  # the robustness table's column
        return self.heterogeneity

    def kinds(self) -> list[Kind]:
        return [replace(KINDS[name], **self.overrides.get(name, {})) for name in self.mix]


def _gamma(rng: np.random.Generator, mean: np.ndarray, cv: float) -> np.ndarray:
    shape = 1.0 / max(cv, 1e-3) ** 2
    return rng.gamma(shape, mean / shape)


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float = 8.0) -> np.ndarray:
    m = np.clip(mean, 1e-4, 1 - 1e-4)
    return rng.beta(m * concentration, (1 - m) * concentration)


def _intensity(days: np.ndarray, start_weekday: int, promo: tuple[float, float]) -> np.ndarray:
    """The calendar's visit intensity (relative) at ``days`` since the window's start."""
    weekday = (start_weekday + np.floor(days).astype(np.int64)) % 7
    lift = np.where(weekday >= 5, WEEKEND_LIFT, 1.0)
    return lift * np.where((days >= promo[0]) & (days < promo[1]), PROMO_LIFT, 1.0)


def simulate_lifecycles(spec: LifecycleSpec) -> Events:
    """Draw the population's events from its kinds' processes (vectorised)."""
    rng = np.random.default_rng(spec.seed)
    kinds = spec.kinds()
    shares = np.array([spec.mix[k.name] for k in kinds], dtype=float)
    code = rng.choice(len(kinds), size=spec.customers, p=shares / shares.sum())
    start, end = window_bounds(spec.as_of, spec.window_months)
    width = (end - start).total_seconds() / DAY

    def param(attr: str) -> np.ndarray:
        return np.array([getattr(k, attr) for k in kinds], dtype=float)[code]

    n = spec.customers
    cv = spec.heterogeneity
    rate = _gamma(rng, param("visits_per_week") / WEEK_DAYS, cv)  # visits per day
    views_mean = _gamma(rng, param("views_per_visit"), cv / 2)
    cart = _beta(rng, param("cart_per_view"))
    order = np.where(param("order_per_visit") > 0, _beta(rng, param("order_per_visit")), 0.0)
    app = _beta(rng, param("app_share"), 4.0)
    price_level = param("price_level") * np.exp(rng.normal(0, cv / 3, n))

    # Active interval in days since the window's start.
    stage = np.array([k.stage for k in kinds])[code]
    lo_days = np.array([k.stage_days[0] for k in kinds])[code]
    hi_days = np.array([k.stage_days[1] for k in kinds])[code]
    days_ago = lo_days + rng.random(n) * (hi_days - lo_days)
    begin = np.where(stage == "new", width - days_ago, 0.0)
    finish = np.where(stage == "leaving", width - days_ago, width)

    # Visits by thinning a homogeneous process at the calendar's highest intensity.
    promo_start = rng.uniform(0, width - WEEK_DAYS)
    promo = (promo_start, promo_start + WEEK_DAYS)
    peak = WEEKEND_LIFT * PROMO_LIFT
    candidates = rng.poisson(rate * peak * (finish - begin))
    v_user = np.repeat(np.arange(n), candidates)
    v_day = begin[v_user] + rng.random(len(v_user)) * (finish - begin)[v_user]
    kept = rng.random(len(v_user)) * peak < _intensity(v_day, start.weekday(), promo)
    v_user, v_day = v_user[kept], v_day[kept]
    # Every customer in the data visited at least once: one visit for those the draw left out.
    unseen = np.setdiff1d(np.arange(n), v_user)
    v_user = np.concatenate([v_user, unseen])
    v_day = np.concatenate(
        [v_day, begin[unseen] + rng.random(len(unseen)) * (finish - begin)[unseen]]
    )
    by_time = np.lexsort((v_day, v_user))
    v_user, v_day = v_user[by_time], v_day[by_time]

    # What each visit holds.
    on_app = rng.random(len(v_user)) < app[v_user]
    views = 1 + rng.poisson(np.maximum(views_mean[v_user] * np.where(on_app, 0.7, 1.2) - 1, 0))
    ordered = rng.random(len(v_user)) < order[v_user]
    buyer_kind = np.array([k.buys for k in kinds])[code]
    never = buyer_kind & (np.bincount(v_user, weights=ordered, minlength=n) == 0)
    last_visit = np.r_[v_user[1:] != v_user[:-1], True]
    ordered |= last_visit & never[v_user]
    items = np.where(
        ordered, 1 + rng.poisson(np.maximum(param("items_per_order")[v_user] - 1, 0)), 0
    )
    carts = np.maximum(
        rng.binomial(views, np.clip(cart[v_user] * np.where(on_app, 1.3, 1.0), 0, 0.95)), items
    )
    removes = rng.binomial(carts - items, REMOVE_SHARE)
    counts = np.column_stack([views, carts, removes, items])

    # Hours: the app in the evening, the web in the day; a visit ends before the window's end.
    hour = np.where(on_app, rng.normal(20.5, 2.0, len(v_user)), rng.normal(13.0, 3.0, len(v_user)))
    moment = np.floor(v_day) + (np.mod(hour, 24.0) / 24.0)
    v_start = (start.timestamp() + moment * DAY).astype(np.int64)
    duration = counts.sum(axis=1) * EVENT_GAP_SECONDS
    v_start = np.clip(v_start, int(start.timestamp()), int(end.timestamp()) - duration - 1)

    # Events: each visit's kinds in funnel order, one event every EVENT_GAP_SECONDS.
    per_visit = counts.sum(axis=1)
    e_visit = np.repeat(np.arange(len(v_user)), per_visit)
    kind = np.repeat(np.tile(np.arange(4, dtype=np.int8), len(v_user)), counts.ravel())
    offset = np.arange(len(e_visit)) - np.repeat(np.cumsum(per_visit) - per_visit, per_visit)
    e_user = v_user[e_visit]

    # Products: browsing around the store's median price, orders at the customer's level.
    items = catalogue(spec.store, rng)
    level = np.where(kind == 3, price_level[e_user], np.exp(rng.normal(0, 0.4, n))[e_user])
    wanted = spec.store.median_price * level * np.exp(rng.normal(0, 0.25, len(kind)))
    product = np.clip(np.searchsorted(items["price"], wanted), 0, len(items["price"]) - 1)
    return Events(
        user=e_user,
        session=e_visit,
        time=v_start[e_visit] + offset * EVENT_GAP_SECONDS,
        kind=kind,
        product=product,
        price=items["price"][product],
        category=items["category"][product],
        brand=items["brand"][product],
        behaviour=np.array([k.name for k in kinds])[code],
        window=(start, end),
        store=spec.store,
    )


ALL_KINDS = {
    "drifter": 0.26,
    "researcher": 0.1,
    "hesitant_carter": 0.1,
    "fresh_browser": 0.08,
    "first_order_newcomer": 0.06,
    "occasional_buyer": 0.08,
    "habitual_buyer": 0.08,
    "deal_stocker": 0.05,
    "premium_regular": 0.04,
    "fading_buyer": 0.07,
    "gone_browser": 0.08,
}

LIFECYCLE_SUITE: tuple[LifecycleSpec, ...] = (
    LifecycleSpec("lc-eleven-5k", 5_000, ALL_KINDS, FASHION, seed=101),
    LifecycleSpec("lc-eleven-50k", 50_000, ALL_KINDS, ELECTRONICS, seed=102),
    LifecycleSpec("lc-eleven-200k-diverse", 200_000, ALL_KINDS, COSMETICS, 0.9, seed=103),
    LifecycleSpec(
        "lc-nine-buyers-30k",
        30_000,
        {k: v for k, v in ALL_KINDS.items() if k not in ("fresh_browser", "gone_browser")},
        FASHION,
        seed=104,
    ),
    LifecycleSpec(
        "lc-ten-steady-500k",
        500_000,
        {k: v for k, v in ALL_KINDS.items() if k != "fresh_browser"},
        ELECTRONICS,
        0.4,
        seed=105,
    ),
    LifecycleSpec(
        "lc-eleven-app-heavy-40k",
        40_000,
        ALL_KINDS,
        COSMETICS,
        seed=106,
        overrides={k: {"app_share": 0.85} for k in ALL_KINDS},
    ),
)
"""Six populations, 9-11 kinds, 5 k-500 k customers, heterogeneity 0.4-0.9 (the CV of rates)."""
