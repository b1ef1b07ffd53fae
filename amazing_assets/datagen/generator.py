"""Synthetic REES46-like monthly exports with planted archetypes and the real defects.

Streaming design: sessions for the whole month are drawn first (a few bytes each), then events
are produced one day at a time, sorted by time and appended to the CSV, so memory stays bounded
by one day of events whatever the month's size. Every text column is a ``take`` from a small
precomputed dictionary (per-second time strings, per-product price strings, per-user id strings,
per-session UUIDs), which keeps generation well above 1 M rows/s.

Deterministic: the same (seed, month, sizes) always writes the same bytes.
"""

from __future__ import annotations

import calendar
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from amazing_assets.datagen.archetypes import (
    ARCHETYPE_NAMES,
    ARCHETYPES,
    BOT,
    archetype_arrays,
    expected_events_per_user,
)

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
EVENT_TYPES = np.array(["view", "cart", "remove_from_cart", "purchase"])
CATEGORY_ROOTS = [
    "electronics.smartphone",
    "electronics.audio.headphone",
    "electronics.video.tv",
    "computers.notebook",
    "computers.desktop",
    "appliances.kitchen.refrigerators",
    "appliances.kitchen.washer",
    "appliances.environment.vacuum",
    "apparel.shoes",
    "apparel.costume",
    "furniture.living_room.sofa",
    "furniture.bedroom.bed",
    "kids.toys",
    "sport.bicycle",
    "auto.accessories.player",
    "construction.tools.drill",
    "accessories.bag",
    "country_yard.cultivator",
    "medicine.tools.tonometer",
    "stationery.cartrige",
]
BRANDS = [
    "samsung",
    "apple",
    "xiaomi",
    "huawei",
    "lucente",
    "bosch",
    "lg",
    "sony",
    "acer",
    "lenovo",
    "respect",
    "cordiant",
    "elenberg",
    "indesit",
    "artel",
    "shiseido",
    "aqua",
    "redmond",
    "vitek",
    "philips",
    "haier",
    "canon",
    "nokia",
    "asus",
    "hp",
    "oppo",
]
# docs/pipeline.md: published shares of defects in the real data.
NULL_CATEGORY_CODE_SHARE = 0.32
NULL_BRAND_SHARE = 0.13
DUPLICATE_ROW_SHARE = 0.004
CART_BURST_SHARE = 0.02  # share of cart events repeated by the tracker bug
BOT_EVENT_SHARE = 0.015  # 614 k of 42 M events in the real data
BOT_EVENTS_PER_DAY = 540  # 6 sessions of 60-120 views: well above the 300/day rule
FREE_PRODUCT_SHARE = 0.001  # price 0.00
ABSURD_PRICE_ROWS_PER_MILLION = 5
CATEGORY_REMAP_FROM = "2019-12"  # category ids remapped from December 2019; ~20 % kept
CATEGORY_REMAP_KEPT = 0.20
ONE_TIME_BUYER = ARCHETYPE_NAMES.index("one_time_buyer")
WINDOW_SHOPPER = ARCHETYPE_NAMES.index("window_shopper")


@dataclass(frozen=True)
class GenerationSpec:
    month: str  # YYYY-MM
    events: int  # target number of rows (before planted duplicates)
    users: int  # customers in the population
    seed: int = 0
    month_index: int = 0  # position in a multi-month series (drives archetype migration)
    defects: bool = True
    migration_rate: float = 0.05  # share of customers that change archetype each month


@dataclass
class GenerationResult:
    path: Path
    rows: int
    ground_truth_path: Path
    active_users: int
    planted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Sessions:
    """Every session of the month, as parallel arrays (index = session)."""

    user: np.ndarray  # customer index
    code: np.ndarray  # archetype code
    second: np.ndarray  # start, seconds into its day
    views: np.ndarray  # views in the session
    is_bot: np.ndarray
    uuid: pa.Array  # REES46-style session id


def customer_ids(users: int, seed: int) -> np.ndarray:
    """9-digit user ids like REES46's (5xxxxxxxx), distinct, fixed by the seed."""
    rng = np.random.default_rng([seed, 7])
    return 510_000_000 + rng.choice(90_000_000, size=users, replace=False)


def customer_archetypes(
    users: int, seed: int, month_index: int, migration_rate: float
) -> np.ndarray:
    """Archetype code per customer for a month; a few customers migrate each month."""
    shares = archetype_arrays()["share"]
    codes = np.random.default_rng([seed, 11]).choice(
        len(ARCHETYPES), size=users, p=shares / shares.sum()
    )
    for step in range(1, month_index + 1):
        rng = np.random.default_rng([seed, 13, step])
        moving = rng.random(users) < migration_rate
        codes[moving] = rng.choice(len(ARCHETYPES), size=int(moving.sum()), p=shares / shares.sum())
    return codes


class _Catalogue:
    """Products with category, brand and price, sorted by price (archetypes pick by quantile)."""

    def __init__(self, rng: np.random.Generator, n_products: int, month: str, seed: int) -> None:
        n_categories = 120
        category_rng = np.random.default_rng([seed, 17])
        category_ids = 2_053_013_552_000_000_000 + category_rng.choice(
            10**15, size=n_categories, replace=False
        )
        category_codes = np.array(
            [f"{CATEGORY_ROOTS[i % len(CATEGORY_ROOTS)]}" for i in range(n_categories)],
            dtype=object,
        )
        category_codes[category_rng.random(n_categories) < NULL_CATEGORY_CODE_SHARE] = None
        category_scale = np.exp(category_rng.normal(4.6, 0.9, size=n_categories))  # median ≈ $100

        product_rng = np.random.default_rng([seed, 19])
        popularity = product_rng.zipf(1.6, size=n_products).astype(np.float64)
        category = np.minimum(product_rng.zipf(1.4, size=n_products) - 1, n_categories - 1)
        price = category_scale[category] * np.exp(product_rng.normal(0.0, 0.6, size=n_products))
        cents = np.clip(np.round(price * 100), 77, 257_400).astype(np.int64)
        cents[product_rng.random(n_products) < FREE_PRODUCT_SHARE] = 0
        brand = product_rng.integers(0, len(BRANDS), size=n_products)
        has_brand = product_rng.random(n_products) >= NULL_BRAND_SHARE
        product_ids = 1_000_000 + product_rng.choice(60_000_000, size=n_products, replace=False)

        product_category_ids = category_ids[category]
        if month >= CATEGORY_REMAP_FROM:
            remapped = product_rng.random(n_products) >= CATEGORY_REMAP_KEPT
            product_category_ids = product_category_ids.copy()
            product_category_ids[remapped] = 2_232_732_000_000_000_000 + category[remapped]

        order = np.argsort(cents, kind="stable")
        self.size = n_products
        self.cents = cents[order]
        self.weights = popularity[order]
        self.product_id = pa.array(product_ids[order].astype(str))
        self.category_id = pa.array(product_category_ids[order].astype(str))
        self.category_code = pa.array(category_codes[category[order]].tolist(), pa.string())
        brand_names = np.array(BRANDS, dtype=object)[brand[order]]
        brand_names[~has_brand[order]] = None
        self.brand = pa.array(brand_names.tolist(), pa.string())
        dollars, rest = np.divmod(self.cents, 100)
        self.price = pa.array(
            [f"{d}.{r:02d}" for d, r in zip(dollars.tolist(), rest.tolist(), strict=True)]
        )

    def pick(self, rng: np.random.Generator, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """Product index per event: a price quantile from the archetype, nudged by popularity."""
        quantile = rng.beta(alpha, beta)
        jitter = rng.integers(-20, 21, size=quantile.size)
        index = (quantile * (self.size - 1)).astype(np.int64) + jitter
        return np.clip(index, 0, self.size - 1)


def _session_uuids(rng: np.random.Generator, n: int) -> pa.Array:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    chars = np.empty((n, 36), dtype=np.uint8)
    positions = [i for i in range(36) if i not in (8, 13, 18, 23)]
    nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
    chars[:, positions] = hex_digits[nibbles]
    chars[:, [8, 13, 18, 23]] = ord("-")
    return pa.array(chars.view("S36").ravel(), pa.binary(36)).cast(pa.binary()).cast(pa.string())


def generate_month(
    spec: GenerationSpec, out_dir: Path, *, gzip_output: bool = False
) -> GenerationResult:
    """Write ``out_dir/<month>/events.csv[.gz]`` and ``out_dir/_ground_truth/<month>.csv``."""
    year, mon = (int(p) for p in spec.month.split("-"))
    days_in_month = calendar.monthrange(year, mon)[1]
    rng = np.random.default_rng([spec.seed, spec.month_index, 23])
    table = archetype_arrays()

    ids = customer_ids(spec.users, spec.seed)
    codes = customer_archetypes(spec.users, spec.seed, spec.month_index, spec.migration_rate)
    # Behaviour per archetype is fixed; the month's size comes from how many customers are
    # active (as in the real data, where months differ by active customers more than by
    # behaviour). Only when the target exceeds what the whole base would do are sessions scaled.
    expected = sum(expected_events_per_user(a) * a.share for a in ARCHETYPES) * spec.users
    target = spec.events * (1 - BOT_EVENT_SHARE) if spec.defects else spec.events
    activity = min(1.0, target / max(expected, 1.0))
    session_scale = max(1.0, target / max(expected, 1.0))
    active = rng.random(spec.users) < table["active_probability"][codes] * activity
    lam = table["sessions_per_month"][codes] * session_scale
    sessions_per_user = np.where(active, np.maximum(rng.poisson(lam), 1), 0)
    # One-time buyers buy once: a single purchasing session, whatever the scale.
    sessions_per_user[(codes == ONE_TIME_BUYER) & active] = 1

    bot_budget = spec.events * BOT_EVENT_SHARE / BOT_EVENTS_PER_DAY  # bot-days in the month
    n_bots = max(1, round(bot_budget / days_in_month)) if spec.defects else 0
    bots = rng.choice(spec.users, size=n_bots, replace=False)
    sessions_per_user[bots] = 0  # a bot is only a bot
    session_user = np.repeat(np.arange(spec.users), sessions_per_user)
    session_code = codes[session_user]
    first, last = (
        table["first_day"][session_code],
        np.minimum(table["last_day"][session_code], days_in_month),
    )
    session_day = first + (rng.random(session_user.size) * (last - first + 1)).astype(np.int64) - 1
    evening = rng.random(session_user.size) < table["evening_bias"][session_code]
    session_second = np.where(
        evening,
        rng.integers(18 * 3600, 86_000, session_user.size),
        rng.integers(0, 86_000, session_user.size),
    )
    views = 1 + rng.poisson(table["views_per_session"][session_code] - 1)

    is_bot_session = np.zeros(session_user.size, dtype=bool)
    planted: dict[str, int] = {}
    if spec.defects:
        # A bot browses all day on its active days: hundreds of views per day. Bot volume is
        # ~1.5 % of events; small months get one bot active on fewer days.
        bot_days = int(min(days_in_month, max(1, round(bot_budget / n_bots))))
        bot_sessions_per_day = 6
        bot_user = np.repeat(bots, bot_days * bot_sessions_per_day)
        bot_day = np.tile(np.repeat(np.arange(bot_days), bot_sessions_per_day), n_bots)
        session_user = np.concatenate([session_user, bot_user])
        session_code = np.concatenate([session_code, np.full(bot_user.size, WINDOW_SHOPPER)])
        session_day = np.concatenate([session_day, bot_day])
        session_second = np.concatenate([session_second, rng.integers(0, 80_000, bot_user.size)])
        views = np.concatenate([views, rng.integers(60, 120, bot_user.size)])
        is_bot_session = np.concatenate([is_bot_session, np.ones(bot_user.size, dtype=bool)])
        planted["bot_users"] = n_bots

    sessions = _Sessions(
        user=session_user,
        code=session_code,
        second=session_second,
        views=views,
        is_bot=is_bot_session,
        uuid=_session_uuids(rng, session_user.size),
    )
    catalogue = _Catalogue(
        rng, n_products=max(2_000, min(200_000, spec.users // 10)), month=spec.month, seed=spec.seed
    )
    user_text = pa.array(ids.astype(str))

    month_dir = out_dir / spec.month
    month_dir.mkdir(parents=True, exist_ok=True)
    path = month_dir / ("events.csv.gz" if gzip_output else "events.csv")
    order = np.lexsort((session_second, session_day))
    day_bounds = np.searchsorted(session_day[order], np.arange(days_in_month + 1))
    rows = 0
    counts = {"duplicates": 0, "cart_bursts": 0, "absurd_prices": 0}
    raw_out = gzip.open(path, "wb", compresslevel=1) if gzip_output else open(path, "wb")  # noqa: SIM115
    with raw_out as sink:
        sink.write((HEADER + "\n").encode())
        for day in range(days_in_month):
            chosen = order[day_bounds[day] : day_bounds[day + 1]]
            if chosen.size == 0:
                continue
            batch, day_counts = _day_events(
                rng, spec, (year, mon, day), chosen, sessions, catalogue, user_text, table
            )
            for key, value in day_counts.items():
                counts[key] += value
            buffer = io.BytesIO()
            pacsv.write_csv(
                batch, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none")
            )
            sink.write(buffer.getvalue())
            rows += batch.num_rows
    planted.update(counts)

    truth_dir = out_dir / "_ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth_path = truth_dir / f"{spec.month}.csv"
    labels = np.array(ARCHETYPE_NAMES, dtype=object)[codes]
    labels[bots] = BOT
    has_events = np.zeros(spec.users, dtype=bool)
    has_events[session_user] = True
    truth = pa.table(
        {"user_id": ids[has_events], "archetype": pa.array(labels[has_events].tolist())}
    )
    pacsv.write_csv(truth, truth_path)
    return GenerationResult(path, rows, truth_path, int(has_events.sum()), planted)


def _day_events(rng, spec, date_parts, chosen, sessions: _Sessions, catalogue, user_text, table):
    """All events of the ``chosen`` sessions (those starting on one day), sorted by time, as
    CSV-ready text."""
    year, mon, day = date_parts
    session_user, session_code, session_second = sessions.user, sessions.code, sessions.second
    views, is_bot_session, session_uuid = sessions.views, sessions.is_bot, sessions.uuid
    n_views = views[chosen]
    view_session = np.repeat(chosen, n_views)
    gaps = rng.exponential(40.0, size=view_session.size).astype(np.int64) + 1
    # Seconds since the session start: cumulative gaps within each session.
    running = np.cumsum(gaps)
    first_view = np.cumsum(n_views) - n_views
    offsets = running - np.repeat(running[first_view] - gaps[first_view], n_views)
    view_time = session_second[view_session] + offsets
    code = session_code[view_session]
    product = catalogue.pick(rng, table["price_alpha"][code], table["price_beta"][code])
    bot = is_bot_session[view_session]
    carted = (rng.random(view_session.size) < table["cart_rate"][code]) & ~bot
    purchased = carted & (rng.random(view_session.size) < table["purchase_rate"][code])
    # A one-time buyer carts and buys exactly one product, the last one viewed.
    last_view = np.zeros(view_session.size, dtype=bool)
    last_view[np.cumsum(n_views) - 1] = True
    one_time = code == ONE_TIME_BUYER
    carted = np.where(one_time, last_view, carted)
    purchased = np.where(one_time, last_view, purchased)
    removed = carted & ~purchased & (rng.random(view_session.size) < table["remove_rate"][code])

    cart_time = view_time + rng.integers(1, 60, view_session.size)
    parts = [
        (view_session, view_time, product, np.zeros(view_session.size, np.int8)),
        (
            view_session[carted],
            cart_time[carted],
            product[carted],
            np.ones(int(carted.sum()), np.int8),
        ),
        (
            view_session[removed],
            cart_time[removed] + rng.integers(5, 300, int(removed.sum())),
            product[removed],
            np.full(int(removed.sum()), 2, np.int8),
        ),
        (
            view_session[purchased],
            cart_time[purchased] + rng.integers(30, 900, int(purchased.sum())),
            product[purchased],
            np.full(int(purchased.sum()), 3, np.int8),
        ),
    ]
    counts = {"duplicates": 0, "cart_bursts": 0, "absurd_prices": 0}
    if spec.defects:
        # Tracker bug: some carts repeated up to 78 times in the same second.
        cart_rows = np.flatnonzero(carted)
        burst = cart_rows[rng.random(cart_rows.size) < CART_BURST_SHARE]
        repeats = np.minimum(rng.geometric(0.3, burst.size), 77)
        burst_rows = np.repeat(burst, repeats)
        parts.append(
            (
                view_session[burst_rows],
                cart_time[burst_rows],
                product[burst_rows],
                np.ones(burst_rows.size, np.int8),
            )
        )
        counts["cart_bursts"] = int(burst_rows.size)
    session = np.concatenate([p[0] for p in parts])
    seconds = np.minimum(np.concatenate([p[1] for p in parts]), 86_399)
    products = np.concatenate([p[2] for p in parts])
    types = np.concatenate([p[3] for p in parts])
    if spec.defects:
        # Exact duplicate rows (~0.4 % in the real data).
        dup = rng.choice(session.size, size=int(session.size * DUPLICATE_ROW_SHARE), replace=False)
        session, seconds, products, types = (
            np.concatenate([a, a[dup]]) for a in (session, seconds, products, types)
        )
        counts["duplicates"] = int(dup.size)
    order = np.argsort(seconds, kind="stable")
    session, seconds, products, types = (
        session[order],
        seconds[order],
        products[order],
        types[order],
    )

    day_text = f"{year:04d}-{mon:02d}-{day + 1:02d}"
    price = catalogue.price.take(pa.array(products))
    if spec.defects and price.__len__():
        n_absurd = int(rng.binomial(price.__len__(), ABSURD_PRICE_ROWS_PER_MILLION / 1e6))
        if n_absurd:
            where = rng.choice(len(price), size=n_absurd, replace=False)
            mask = np.zeros(len(price), dtype=bool)
            mask[where] = True
            price = pc.if_else(pa.array(mask), pa.scalar("999999.99"), price)
            counts["absurd_prices"] = n_absurd
    batch = pa.table(
        {
            "event_time": _event_times(day_text, seconds),
            "event_type": pa.array(EVENT_TYPES).take(pa.array(types)),
            "product_id": catalogue.product_id.take(pa.array(products)),
            "category_id": catalogue.category_id.take(pa.array(products)),
            "category_code": catalogue.category_code.take(pa.array(products)),
            "brand": catalogue.brand.take(pa.array(products)),
            "price": price,
            "user_id": user_text.take(pa.array(session_user[session])),
            "user_session": session_uuid.take(pa.array(session)),
        }
    )
    return batch, counts


_CLOCK: list[pa.Array] = []


def _event_times(day_text: str, seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS UTC`` for seconds of one day (the 86,400 clock strings made once)."""
    if not _CLOCK:
        _CLOCK.append(
            pa.array(
                [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} UTC" for s in range(86_400)]
            )
        )
    return pc.binary_join_element_wise(pa.scalar(day_text), _CLOCK[0].take(pa.array(seconds)), " ")
