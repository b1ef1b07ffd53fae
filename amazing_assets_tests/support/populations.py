"""A second, independent population generator for robustness tests of the segmentation.

Independent of :mod:`amazing_assets.datagen.generator` on purpose: the segments were tuned on that
generator's archetypes, so scoring them only there measures how well they memorised it. Nothing
here imports it or reuses its archetypes. The behaviours below are written from what an online
store's analyst would describe (one-visit browsers, heavy researchers, lapsed buyers...), with
their own shapes: orders are drawn per customer, sessions are spread over the 3-month feature
window on behaviour-specific dates, baskets are set relative to a store's median item price.

One simulation gives two outputs, so the large populations stay cheap and the small ones can go
through the real Spark code:

* :func:`per_user_features`: the per-user table computed in numpy with the pipeline's formulas
  (:mod:`amazing_assets.defs.features.features`), fast enough for 200 k customers in seconds;
* :func:`write_landing`: the same events as REES46 CSV exports (one folder per month), for the
  real ingestion → cleaning → Spark features chain.

Ground truth: every customer carries the ``behaviour`` it was planted with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

DAY = 86_400.0
EVENT_GAP_SECONDS = 45  # between consecutive events of a session: no two share a second


@dataclass(frozen=True)
class Behaviour:
    """How one kind of customer behaves over the feature window.

    Days are counted back from the as-of month's end: ``days_ago=(0, 20)`` puts every session in
    the last 20 days (a newcomer), ``(40, 92)`` only before the last 40 days (lapsed).
    """

    name: str
    sessions: float  # mean number of sessions in the window (at least ``orders``)
    views_per_session: float
    cart_rate: float  # P(cart | view) outside the purchased items
    orders: tuple[float, int, int] = (0.0, 0, 0)  # (mean, min, max) sessions with a purchase
    items_per_order: float = 1.0
    basket: float = 1.0  # item price level, multiple of the store's median item price
    days_ago: tuple[float, float] = (0.0, 92.0)
    single_session: bool = False

    @property
    def buys(self) -> bool:
        return self.orders[2] > 0


# The behaviour library. Names are the ground truth, not segment names.
BEHAVIOURS: dict[str, Behaviour] = {
    b.name: b
    for b in (
        Behaviour("one_visit_browser", 1, 2.5, 0.0, days_ago=(0, 30), single_session=True),
        Behaviour("heavy_researcher", 10, 11.0, 0.015),
        Behaviour("cart_abandoner", 3, 5.0, 0.35),
        Behaviour("single_buyer", 2, 4.0, 0.15, orders=(1, 1, 1), days_ago=(0, 35)),
        Behaviour("regular_buyer", 7, 5.0, 0.2, orders=(4, 2, 12), items_per_order=1.5),
        Behaviour("high_spender", 8, 6.0, 0.2, orders=(5, 2, 14), items_per_order=1.5, basket=7.0),
        Behaviour("lapsed_buyer", 3, 4.0, 0.15, orders=(1.5, 1, 3), days_ago=(42, 92)),
        Behaviour("lapsed_browser", 1.5, 3.0, 0.0, days_ago=(50, 92)),
        Behaviour(
            "bargain_repeater", 6, 6.0, 0.3, orders=(5, 3, 14), items_per_order=3.0, basket=0.3
        ),
        Behaviour("newcomer_buyer", 1.5, 4.0, 0.2, orders=(1, 1, 2), days_ago=(0, 18)),
    )
}


@dataclass(frozen=True)
class Store:
    """A catalogue: its median item price and categories (cheap cosmetics vs electronics)."""

    name: str
    median_price: float
    categories: tuple[str, ...]
    brands: int = 40
    products: int = 3_000


COSMETICS = Store(
    "cosmetics",
    6.5,
    (
        "beauty.skin_care.cream",
        "beauty.skin_care.serum",
        "beauty.hair.shampoo",
        "beauty.makeup.lipstick",
        "beauty.makeup.mascara",
        "beauty.nails.polish",
        "beauty.fragrance",
        "beauty.tools.brush",
    ),
)
ELECTRONICS = Store(
    "electronics",
    180.0,
    (
        "electronics.smartphone",
        "electronics.audio.headphone",
        "computers.notebook",
        "appliances.kitchen.kettle",
        "electronics.video.tv",
        "computers.peripherals.mouse",
    ),
)
FASHION = Store(
    "fashion",
    35.0,
    ("apparel.shoes", "apparel.dress", "apparel.jeans", "accessories.bag", "apparel.shirt"),
)


@dataclass(frozen=True)
class PopulationSpec:
    """One population: who is in it (behaviour → share), how many, which store, how noisy."""

    name: str
    customers: int
    mix: dict[str, float]
    store: Store = ELECTRONICS
    noise: float = 0.3  # sd of the per-customer log-normal jitter on every behaviour parameter
    seed: int = 0
    as_of: str = "2019-10"
    window_months: int = 3
    overrides: dict[str, dict] = field(default_factory=dict)  # behaviour → changed fields

    def behaviours(self) -> list[Behaviour]:
        out = []
        for name in self.mix:
            behaviour = BEHAVIOURS[name]
            out.append(replace(behaviour, **self.overrides.get(name, {})))
        return out


def window_bounds(as_of: str, months: int) -> tuple[datetime, datetime]:
    """[start, end) of the feature window ending with the as-of month (UTC)."""
    year, month = (int(p) for p in as_of.split("-"))
    end_index = year * 12 + month  # month after as_of, 0-based month arithmetic below
    end = datetime(end_index // 12, end_index % 12 + 1, 1, tzinfo=UTC)
    start_index = year * 12 + month - 1 - (months - 1)
    start = datetime(start_index // 12, start_index % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass
class Events:
    """Every event of a population as parallel arrays, plus the per-customer truth."""

    user: np.ndarray  # customer index
    session: np.ndarray  # global session index
    time: np.ndarray  # epoch seconds (int64)
    kind: np.ndarray  # 0 view, 1 cart, 2 remove_from_cart, 3 purchase
    product: np.ndarray
    price: np.ndarray  # of the product
    category: np.ndarray  # of the product
    brand: np.ndarray
    behaviour: np.ndarray  # per customer: behaviour name
    window: tuple[datetime, datetime]
    store: Store

    @property
    def customers(self) -> int:
        return len(self.behaviour)


KINDS = np.array(["view", "cart", "remove_from_cart", "purchase"])


def _jitter(rng: np.random.Generator, values: np.ndarray, noise: float) -> np.ndarray:
    return values * np.exp(rng.normal(0.0, noise, len(values)))


def simulate(
    spec: PopulationSpec, codes: np.ndarray | None = None, trait_seed: int | None = None
) -> Events:
    """Draw the population's events (vectorised; memory ~ 60 bytes per event).

    ``codes`` (one index into ``spec.behaviours()`` per customer) plants given behaviours instead
    of drawing them: the same customers observed again in another month (see
    :mod:`amazing_assets_tests.support.population_months`). ``trait_seed`` draws each customer's
    personal levels (the log-normal jitter of sessions, orders, views, cart rate, prices) from
    their own seeded stream, so the same customer keeps the same habits in another month while
    the events themselves are drawn anew; without it everything comes from ``spec.seed``.
    """
    rng = np.random.default_rng(spec.seed)
    behaviours = spec.behaviours()
    shares = np.array([spec.mix[b.name] for b in behaviours], dtype=float)
    code = rng.choice(len(behaviours), size=spec.customers, p=shares / shares.sum())
    if codes is not None:
        code = np.asarray(codes, dtype=np.int64)
    traits = rng if trait_seed is None else np.random.default_rng(trait_seed)
    start, end = window_bounds(spec.as_of, spec.window_months)
    window_days = (end - start).total_seconds() / DAY

    def column(attr: str) -> np.ndarray:
        return np.array([getattr(b, attr) for b in behaviours], dtype=float)[code]

    n = spec.customers
    noise = spec.noise
    order_mean = np.array([b.orders[0] for b in behaviours])[code]
    order_min = np.array([b.orders[1] for b in behaviours])[code]
    order_max = np.array([b.orders[2] for b in behaviours])[code]
    orders = np.clip(
        order_min + rng.poisson(np.maximum(_jitter(traits, order_mean, noise) - order_min, 0)),
        order_min,
        order_max,
    ).astype(np.int64)
    single = np.array([b.single_session for b in behaviours])[code]
    sessions = 1 + rng.poisson(np.maximum(_jitter(traits, column("sessions"), noise) - 1, 0))
    sessions = np.where(single, 1, np.maximum(sessions, orders)).astype(np.int64)

    # Sessions: owner, start time inside the behaviour's dates, purchase flag.
    s_user = np.repeat(np.arange(n), sessions)
    lo = np.minimum(np.array([b.days_ago[0] for b in behaviours])[code], window_days)
    hi = np.minimum(np.array([b.days_ago[1] for b in behaviours])[code], window_days)
    days_ago = lo[s_user] + rng.random(len(s_user)) * (hi - lo)[s_user]
    rank = _rank_within(s_user, rng.random(len(s_user)))
    buys = rank < orders[s_user]

    views = 1 + rng.poisson(
        np.maximum(_jitter(traits, column("views_per_session"), noise)[s_user] - 1, 0)
    )
    cart_rate = np.clip(_jitter(traits, column("cart_rate"), noise), 0, 0.95)[s_user]
    carts = rng.binomial(views, cart_rate)
    items = np.where(
        buys,
        1 + rng.poisson(np.maximum(column("items_per_order")[s_user] - 1, 0)),
        0,
    )
    carts = np.maximum(carts, items)
    removes = rng.binomial(carts - items, 0.3)
    per_session = views + carts + removes + items

    # Session start: its last event still falls before the window's end.
    duration = per_session * EVENT_GAP_SECONDS
    end_ts = int(end.timestamp())
    s_start = (end_ts - days_ago * DAY - duration - 1).astype(np.int64)
    s_start = np.maximum(s_start, int(start.timestamp()))

    # Events: a session's views, then carts, then removes, then purchases.
    e_session = np.repeat(np.arange(len(s_user)), per_session)
    position = np.arange(len(e_session)) - np.repeat(
        np.cumsum(per_session) - per_session, per_session
    )
    b1 = views[e_session]
    b2 = b1 + carts[e_session]
    b3 = b2 + removes[e_session]
    kind = np.select([position < b1, position < b2, position < b3], [0, 1, 2], 3)
    e_user = s_user[e_session]
    time = s_start[e_session] + position * EVENT_GAP_SECONDS

    items = catalogue(spec.store, rng)
    browse_level = _jitter(traits, np.ones(n), noise)
    basket_level = _jitter(traits, column("basket"), noise / 2)
    level = np.where(kind == 3, basket_level[e_user], browse_level[e_user])
    wanted = spec.store.median_price * level * np.exp(rng.normal(0, 0.25, len(kind)))
    product = np.clip(np.searchsorted(items["price"], wanted), 0, len(items["price"]) - 1)
    return Events(
        user=e_user,
        session=e_session,
        time=time.astype(np.int64),
        kind=kind.astype(np.int8),
        product=product,
        price=items["price"][product],
        category=items["category"][product],
        brand=items["brand"][product],
        behaviour=np.array([b.name for b in behaviours])[code],
        window=(start, end),
        store=spec.store,
    )


def _rank_within(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank of each element within its (sorted, contiguous) group by a random key."""
    order = np.lexsort((keys, groups))
    sorted_groups = groups[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    counts = np.diff(np.r_[first, len(groups)])
    ranks_sorted = np.arange(len(groups)) - np.repeat(first, counts)
    ranks = np.empty_like(ranks_sorted)
    ranks[order] = ranks_sorted
    return ranks


def catalogue(store: Store, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Products sorted by price, log-uniform from a tenth of the median to 25x the median."""
    price = np.sort(store.median_price * np.exp(rng.uniform(-2.3, 3.2, store.products)))
    return {
        "price": np.round(price, 2),
        "category": rng.integers(0, len(store.categories), store.products),
        "brand": rng.integers(0, store.brands, store.products),
    }


def per_user_features(events: Events) -> pd.DataFrame:
    """The per-user table with the pipeline's formulas (``compute_user_features``), in numpy.

    Customers with no event do not exist (every planted customer has at least one session).
    ``user_key`` is the customer index as text; ``behaviour`` is the planted truth.
    """
    n = events.customers
    start, end = events.window
    end_ts = end.timestamp()
    window_days = (end - start).total_seconds() / DAY
    u, kind = events.user, events.kind

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(u[mask], minlength=n)

    def distinct(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        users = u if mask is None else u[mask]
        vals = values if mask is None else values[mask]
        pairs = np.unique(users.astype(np.int64) * (int(vals.max(initial=0)) + 1) + vals)
        return np.bincount(pairs // (int(vals.max(initial=0)) + 1), minlength=n)

    purchase = kind == 3
    n_events = np.bincount(u, minlength=n)
    n_views, n_carts, n_removes, n_purchases = (count(kind == k) for k in range(4))
    n_sessions = distinct(events.session)
    frequency = distinct(events.session, purchase)
    spend = np.bincount(u[purchase], weights=events.price[purchase], minlength=n)
    last = np.full(n, -np.inf)
    np.maximum.at(last, u, events.time.astype(float))
    first = np.full(n, np.inf)
    np.minimum.at(first, u, events.time.astype(float))
    last_purchase = np.full(n, -np.inf)
    np.maximum.at(last_purchase, u[purchase], events.time[purchase].astype(float))
    moments = pd.to_datetime(events.time, unit="s", utc=True)
    hour = moments.hour.to_numpy()
    weekend = moments.dayofweek.to_numpy() >= 5
    day = (events.time // 86_400).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        features = pd.DataFrame(
            {
                "user_key": np.arange(n).astype(str),
                "recency_days": (end_ts - last) / DAY,
                "days_since_last_purchase": np.where(
                    np.isfinite(last_purchase), (end_ts - last_purchase) / DAY, window_days
                ),
                "frequency": frequency,
                "monetary": np.round(spend, 2),
                "avg_order_value": np.round(np.where(frequency > 0, spend / frequency, 0.0), 2),
                "n_events": n_events,
                "n_views": n_views,
                "n_carts": n_carts,
                "n_removes": n_removes,
                "n_purchases": n_purchases,
                "n_sessions": n_sessions,
                "events_per_session": np.where(n_sessions > 0, n_events / n_sessions, 0.0),
                "view_to_cart_rate": np.minimum(np.where(n_views > 0, n_carts / n_views, 0.0), 1.0),
                "cart_to_purchase_rate": np.minimum(
                    np.where(n_carts > 0, n_purchases / n_carts, 0.0), 1.0
                ),
                "n_categories": distinct(events.category),
                "n_brands": distinct(events.brand),
                "share_night": count(hour < 6) / n_events,
                "share_morning": count((hour >= 6) & (hour < 12)) / n_events,
                "share_afternoon": count((hour >= 12) & (hour < 18)) / n_events,
                "share_evening": count(hour >= 18) / n_events,
                "share_weekend": count(weekend) / n_events,
                "active_days": distinct(day - day.min(initial=0)),
                "tenure_days": (end_ts - first) / DAY,
            }
        )
    features["behaviour"] = events.behaviour
    return features


def write_landing(events: Events, landing: Path, first_user_id: int = 512_000_000) -> list[Path]:
    """The events as REES46 exports: ``<landing>/YYYY-MM/<store>.csv``, one file per month.

    Users get 9-digit ids (``first_user_id + index``), sessions UUID-shaped ids; the truth is
    written beside them in ``<landing>/_ground_truth.csv`` (user_id, behaviour).
    """
    rng = np.random.default_rng(len(events.time))
    uuids = _uuids(rng, int(events.session.max(initial=-1)) + 1)
    moments = pd.to_datetime(events.time, unit="s", utc=True)
    categories = np.array(events.store.categories)
    frame = pd.DataFrame(
        {
            "event_time": moments.strftime("%Y-%m-%d %H:%M:%S UTC"),
            "event_type": KINDS[events.kind],
            "product_id": 1_000_000 + events.product,
            "category_id": 2_053_013_552_226_107_603 + events.category,
            "category_code": categories[events.category],
            "brand": np.char.add("brand", events.brand.astype(str)),
            "price": np.round(events.price, 2),
            "user_id": first_user_id + events.user,
            "user_session": uuids[events.session],
            "_month": moments.strftime("%Y-%m"),
        }
    ).sort_values("event_time", kind="stable")
    paths = []
    for month, rows in frame.groupby("_month"):
        folder = landing / str(month)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{events.store.name}.csv"
        rows.drop(columns="_month").to_csv(path, index=False, float_format="%.2f")
        paths.append(path)
    pd.DataFrame(
        {"user_id": first_user_id + np.arange(events.customers), "behaviour": events.behaviour}
    ).to_csv(landing / "_ground_truth.csv", index=False)
    return paths


def _uuids(rng: np.random.Generator, count: int) -> np.ndarray:
    raw = rng.integers(0, 16, size=(count, 32))
    text = np.array(list("0123456789abcdef"))[raw]
    joined = ["".join(r) for r in text]
    return np.array([f"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}" for t in joined])


# What a truthful segment name for each behaviour can be (for scoring names against the truth).
FITTING_NAMES: dict[str, frozenset[str]] = {
    "one_visit_browser": frozenset({"Occasional browsers", "Browsers, low activity"}),
    "heavy_researcher": frozenset({"Window shoppers", "Browsers, high activity"}),
    "cart_abandoner": frozenset({"Cart abandoners"}),
    "single_buyer": frozenset({"One-time buyers", "New customers"}),
    "regular_buyer": frozenset({"Loyal customers", "Champions"}),
    "high_spender": frozenset({"Big spenders", "Champions"}),
    "lapsed_buyer": frozenset({"At risk"}),
    "lapsed_browser": frozenset({"Dormant", "Browsers, low activity"}),
    "bargain_repeater": frozenset({"Bargain hunters", "Loyal customers"}),
    "newcomer_buyer": frozenset({"New customers", "One-time buyers"}),
}

SEVEN = {
    "one_visit_browser": 0.40,
    "heavy_researcher": 0.15,
    "cart_abandoner": 0.15,
    "single_buyer": 0.10,
    "regular_buyer": 0.09,
    "high_spender": 0.03,
    "lapsed_buyer": 0.08,
}

SUITE: tuple[PopulationSpec, ...] = (
    PopulationSpec("seven-electronics", 50_000, SEVEN, ELECTRONICS, seed=1),
    PopulationSpec("seven-cosmetics", 50_000, SEVEN, COSMETICS, seed=2),
    PopulationSpec("small-5k", 5_000, SEVEN, FASHION, seed=3),
    PopulationSpec("large-200k", 200_000, SEVEN, ELECTRONICS, noise=0.35, seed=4),
    PopulationSpec("noisy", 40_000, SEVEN, COSMETICS, noise=0.5, seed=5),
    PopulationSpec(
        "few-buyers",
        60_000,
        {
            "one_visit_browser": 0.55,
            "heavy_researcher": 0.2,
            "cart_abandoner": 0.15,
            "single_buyer": 0.04,
            "regular_buyer": 0.04,
            "high_spender": 0.02,
        },
        ELECTRONICS,
        seed=6,
    ),
    PopulationSpec(
        "buyer-heavy",
        20_000,
        {
            "one_visit_browser": 0.2,
            "cart_abandoner": 0.15,
            "single_buyer": 0.25,
            "regular_buyer": 0.2,
            "high_spender": 0.08,
            "lapsed_buyer": 0.12,
        },
        FASHION,
        seed=7,
    ),
    PopulationSpec(
        "lapsing-store",
        40_000,
        {
            "one_visit_browser": 0.3,
            "lapsed_browser": 0.25,
            "cart_abandoner": 0.1,
            "single_buyer": 0.1,
            "regular_buyer": 0.07,
            "high_spender": 0.03,
            "lapsed_buyer": 0.15,
        },
        COSMETICS,
        seed=8,
    ),
    PopulationSpec(
        "bargain-cosmetics",
        100_000,
        {
            "one_visit_browser": 0.4,
            "heavy_researcher": 0.12,
            "cart_abandoner": 0.13,
            "single_buyer": 0.1,
            "bargain_repeater": 0.1,
            "high_spender": 0.04,
            "lapsed_buyer": 0.11,
        },
        COSMETICS,
        seed=9,
    ),
    PopulationSpec(
        "newcomers",
        30_000,
        {
            "one_visit_browser": 0.35,
            "heavy_researcher": 0.15,
            "cart_abandoner": 0.15,
            "newcomer_buyer": 0.12,
            "regular_buyer": 0.1,
            "high_spender": 0.03,
            "lapsed_buyer": 0.1,
        },
        FASHION,
        seed=10,
    ),
    PopulationSpec(
        "vip-2pct",
        80_000,
        {
            "one_visit_browser": 0.45,
            "heavy_researcher": 0.15,
            "cart_abandoner": 0.14,
            "single_buyer": 0.1,
            "regular_buyer": 0.08,
            "high_spender": 0.02,
            "lapsed_buyer": 0.06,
        },
        ELECTRONICS,
        seed=11,
    ),
    PopulationSpec(
        "short-activity",
        30_000,
        SEVEN,
        COSMETICS,
        seed=12,
        overrides={
            "regular_buyer": {"days_ago": (0.0, 45.0)},
            "high_spender": {"days_ago": (0.0, 45.0)},
            "cart_abandoner": {"days_ago": (0.0, 30.0)},
        },
    ),
    PopulationSpec(
        "eight-behaviours-150k",
        150_000,
        {
            "one_visit_browser": 0.3,
            "heavy_researcher": 0.12,
            "cart_abandoner": 0.12,
            "lapsed_browser": 0.15,
            "single_buyer": 0.1,
            "regular_buyer": 0.08,
            "high_spender": 0.04,
            "lapsed_buyer": 0.09,
        },
        FASHION,
        noise=0.4,
        seed=13,
    ),
    PopulationSpec("seven-electronics-seed14", 25_000, SEVEN, ELECTRONICS, seed=14),
)
CI_SLICE: tuple[str, ...] = ("small-5k", "buyer-heavy", "short-activity")
