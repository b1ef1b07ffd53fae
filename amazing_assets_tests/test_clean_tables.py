"""The cleaning's Arrow outputs and counts against plain-Python readings, on random classified
partitions (many seeds, nulls, NaN and signed zeros, small value domains so that copies are
common)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pyarrow as pa
import pytest

from amazing_assets.defs.cleaning.clean_tables import (
    EXPORT_COLUMNS,
    kept_duplicates,
    kept_violations,
    merged_counts,
    outcome_counts,
)
from amazing_assets.lib.schema import EVENT_TYPES
from amazing_assets_tests.test_customer_rules import SCHEMA, random_rows

SEEDS = range(60)


def comparable(value):
    """A value as Spark's ``<=>`` compares it: NaN equals NaN, -0.0 equals 0.0."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else value + 0.0
    return value


def expected_duplicates(rows: list[dict]) -> int:
    kept = Counter(
        tuple(comparable(r[c]) for c in (*EXPORT_COLUMNS, "month"))
        for r in rows
        if r["drop_reason"] is None
    )
    return sum(n - 1 for n in kept.values())


def expected_counts(rows: list[dict]) -> dict:
    counts: dict = {}
    for r in rows:
        key = (r["month"], r["drop_reason"])
        group = counts.setdefault(key, Counter())
        group["count"] += 1
        group["null_keys"] += r["user_id"] is None or r["user_session"] is None
        group["bad_types"] += r["event_type"] is not None and r["event_type"] not in EVENT_TYPES
        group["negative_prices"] += r["price"] is not None and r["price"] < 0
    return {k: dict(v) for k, v in counts.items()}


def with_copies(rows: list[dict], rng: random.Random) -> list[dict]:
    """Add exact copies (some with -0.0 for 0.0 or another NaN), kept or dropped."""
    copies = []
    for row in rng.sample(rows, k=min(len(rows), 20)):
        copy = dict(row)
        if copy["price"] == 0.0:
            copy["price"] = -copy["price"]
        copy["drop_reason"] = rng.choice([None, None, "bot_user"])
        copies.append(copy)
    return rows + copies


@pytest.mark.parametrize("seed", SEEDS)
def test_kept_duplicates_count_every_extra_copy_of_a_kept_row(seed):
    rng = random.Random(seed)
    rows = with_copies(random_rows(seed), rng)
    rng.shuffle(rows)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    assert kept_duplicates(table) == expected_duplicates(rows)


@pytest.mark.parametrize("seed", SEEDS)
def test_outcome_counts_per_task_add_up_to_the_whole(seed):
    rng = random.Random(seed)
    rows = random_rows(seed)
    for row in rows:  # types outside the four, to count
        if rng.random() < 0.1:
            row["event_type"] = "wishlist"
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    cut = rng.randint(0, len(rows))
    groups = merged_counts(outcome_counts(table.slice(0, cut)) + outcome_counts(table.slice(cut)))
    got = {
        (g["month"], g["drop_reason"]): {
            k: v for k, v in g.items() if k not in ("month", "drop_reason")
        }
        for g in groups
    }
    assert got == expected_counts(rows)
    kept = [g for g in groups if g["drop_reason"] is None]
    assert kept_violations(groups, 3) == {
        "null_keys": sum(g["null_keys"] for g in kept),
        "bad_types": sum(g["bad_types"] for g in kept),
        "negative_prices": sum(g["negative_prices"] for g in kept),
        "duplicates": 3,
    }
