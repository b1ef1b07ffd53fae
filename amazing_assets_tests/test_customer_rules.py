"""The per-customer cleaning rules in Arrow, against a plain-Python reading of docs/pipeline.md on
random partitions: many seeds, small value domains (so groups, ties and repeats are common),
nulls and NaN everywhere a raw row could hold them."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pyarrow as pa
import pytest

from amazing_assets.defs.cleaning.customer_rules import (
    COMPARED_COLUMNS,
    GROUP_COLUMNS,
    TIE_BREAK_COLUMN,
    classify_customer_rows,
)
from amazing_assets.lib.arrow_groups import whole_partition
from amazing_assets.lib.schema import TYPED_EVENT_FIELDS

SCHEMA = pa.schema(
    [
        *TYPED_EVENT_FIELDS,
        pa.field("_source_file", pa.string()),
        pa.field("_warning", pa.string()),
        pa.field("month", pa.string()),
        pa.field("drop_reason", pa.string()),
    ]
)
THRESHOLD = 4.0  # low, so that random customers become bots


def random_rows(seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2019, 10, 1, tzinfo=UTC)
    times = [None, *(start + timedelta(hours=rng.randint(0, 24 * 4)) for _ in range(4))]
    pick = rng.choice
    return [
        {
            "event_time": pick(times),
            "event_type": pick(["view", "cart", "cart", "purchase", None]),
            "product_id": pick([1, 2, None]),
            "category_id": pick([10, 11, None]),
            "category_code": pick(["a.b", None]),
            "brand": pick(["acme", "", None]),
            "price": pick([1.0, 2.5, 0.0, -0.0, math.nan, None]),
            "user_id": pick([1, 2, 3, 2**60, None]),
            "user_session": pick(["s1", "s2", None]),
            "_source_file": pick(["a.csv", "b.csv"]),
            "_warning": pick([None, "lossy_price"]),
            "month": pick(["2019-10", "2019-10", "2019-11"]),
            "drop_reason": pick([None, None, None, None, "negative_price"]),
        }
        for _ in range(rng.randint(1, 250))
    ]


def same(a, b) -> bool:
    """Spark's ``<=>`` on one value: null equals null, NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b or (a is None and b is None)


def sort_value(value):
    """Ascending, nulls first, NaN after every number (Spark's order)."""
    if value is None:
        return (0, 0)
    if isinstance(value, float) and math.isnan(value):
        return (2, 0)
    return (1, value)


def expected_reasons(rows: list[dict]) -> Counter:
    """(row without its copy-specific ``_warning``, reason) → how many rows."""
    reasons = [row["drop_reason"] for row in rows]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row["drop_reason"] is None:
            # Python's == on NaN is false: key floats by repr so NaN rows group together.
            groups[tuple(_plain(row[c]) for c in GROUP_COLUMNS)].append(i)
    for members in groups.values():
        members.sort(
            key=lambda i: [sort_value(rows[i][c]) for c in (*COMPARED_COLUMNS, TIE_BREAK_COLUMN)]
        )
        for previous, current in pairwise(members):
            if rows[current]["event_type"] == "cart":
                reasons[current] = "cart_burst"
            elif all(same(rows[previous][c], rows[current][c]) for c in COMPARED_COLUMNS):
                reasons[current] = "exact_duplicate"
    activity: dict[tuple, list] = defaultdict(list)
    for row in rows:
        if row["drop_reason"] is None and row["user_id"] is not None:
            activity[(row["user_id"], row["month"])].append(row["event_time"])
    bots = set()
    for customer, times in activity.items():
        days = {t.date() for t in times if t is not None}
        if days and len(times) / len(days) > THRESHOLD:
            bots.add(customer)
    for i, row in enumerate(rows):
        if reasons[i] is None and (row["user_id"], row["month"]) in bots:
            reasons[i] = "bot_user"
    return Counter((_identity(row), reason) for row, reason in zip(rows, reasons, strict=True))


def _identity(row: dict) -> tuple:
    return tuple(_plain(row[c]) for c in SCHEMA.names if c not in ("_warning", "drop_reason"))


def _plain(value) -> str:
    """A value's text, the same whether it came from Python or back from Arrow."""
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def classified(table: pa.Table) -> Counter:
    return Counter((_identity(row), row["drop_reason"]) for row in table.to_pylist())


@pytest.mark.parametrize("seed", range(80))
def test_rules_match_a_plain_reading_of_them(seed):
    rows = random_rows(seed)
    got = classify_customer_rows(pa.Table.from_pylist(rows, schema=SCHEMA), THRESHOLD)
    assert got.schema == SCHEMA
    assert classified(got) == expected_reasons(rows)


@pytest.mark.parametrize("seed", range(5))
def test_a_partition_in_many_batches_is_classified_as_one(seed):
    rows = random_rows(500 + seed)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    classify = whole_partition(lambda t: classify_customer_rows(t, THRESHOLD), max_rows=5)
    batches = list(classify(iter(table.to_batches(max_chunksize=9))))
    assert all(b.num_rows <= 5 for b in batches)
    assert classified(pa.Table.from_batches(batches, SCHEMA)) == expected_reasons(rows)
    assert list(classify(iter([]))) == []


def test_rows_already_dropped_are_left_alone_and_do_not_hide_repeats():
    """A dropped row never becomes the kept copy of a group, nor makes a bot."""
    base = random_rows(1)[0] | {"event_type": "cart", "user_id": 7, "drop_reason": None}
    rows = [base | {"drop_reason": "negative_price"}, base, base]
    got = classify_customer_rows(pa.Table.from_pylist(rows, schema=SCHEMA), THRESHOLD)
    assert sorted(map(str, got["drop_reason"].to_pylist())) == [
        "None",
        "cart_burst",
        "negative_price",
    ]
