"""The Arrow aggregation behind the features, against a plain-Python reading of Spark's aggregate
semantics, on random partitions (many seeds, nulls everywhere a clean table could have them)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from amazing_assets.defs.features.user_aggregates import (
    AGGREGATE_SCHEMA,
    DAYPARTS,
    INPUT_COLUMNS,
    INPUT_SCHEMA,
    WindowPlan,
    aggregate_partition,
    user_aggregates,
    windowed_events,
)

KINDS = ["view", "cart", "remove_from_cart", "purchase", None]


def random_events(seed: int) -> list[dict]:
    """Events of a few customers around day and month edges; any value may be null."""
    rng = random.Random(seed)
    start = datetime(2019, 10, 31, 20, tzinfo=UTC)
    users = [f"u{i}" for i in range(rng.randint(1, 12))] + [None]
    rows = []
    for _ in range(rng.randint(1, 400)):
        rows.append(
            {
                "user_key": rng.choice(users),
                "as_of": rng.choice(["2019-11", "2019-12", None][: rng.randint(1, 3)]),
                "event_time": rng.choice(
                    [None, start + timedelta(seconds=rng.randint(0, 3 * 86_400))]
                ),
                "event_type": rng.choice(KINDS),
                "session_key": rng.choice([None, *[f"s{i}" for i in range(6)]]),
                "brand": rng.choice([None, "unknown", "acme", "zeta", "Acme"]),
                "price": rng.choice([None, 0.0, -1.0, 9.99, 120.5, 1e6]),
                "_category": rng.choice([None, 1, 2, 3, 2**62]),
            }
        )
    return rows


def expected_aggregates(rows: list[dict]) -> dict[tuple, dict]:
    """Spark's semantics, row by row: ``count(*)``; ``sum`` of flags where a null condition
    counts as false; ``size(collect_set(x))`` (nulls ignored); ``max``/``min`` ignoring nulls."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["user_key"], row["as_of"])].append(row)
    out = {}
    for key, events in groups.items():
        times = [e["event_time"] for e in events if e["event_time"] is not None]
        bought = [e for e in events if e["event_type"] == "purchase"]
        hours = [t.hour for t in times]
        out[key] = {
            "n_events": len(events),
            "n_views": sum(e["event_type"] == "view" for e in events),
            "n_carts": sum(e["event_type"] == "cart" for e in events),
            "n_removes": sum(e["event_type"] == "remove_from_cart" for e in events),
            "n_purchases": len(bought),
            "n_sessions": len({e["session_key"] for e in events} - {None}),
            "frequency": len({e["session_key"] for e in bought} - {None}),
            "n_categories": len({e["_category"] for e in events} - {None}),
            "n_brands": len({e["brand"] for e in events} - {None, "unknown"}),
            "active_days": len({t.date() for t in times}),
            "_weekend": sum(t.weekday() >= 5 for t in times),
            **{
                f"_daypart_{name}": sum(lo <= h < hi for h in hours)
                for name, (lo, hi) in DAYPARTS.items()
            },
            "monetary": sum(e["price"] for e in bought if (e["price"] or 0) > 0),
            "_last_event": max(times, default=None),
            "_first_event": min(times, default=None),
            "_last_purchase": max(
                (e["event_time"] for e in bought if e["event_time"] is not None), default=None
            ),
        }
    return out


def as_dict(table: pa.Table) -> dict[tuple, dict]:
    return {(r.pop("user_key"), r.pop("as_of")): r for r in table.to_pylist()}


@pytest.mark.parametrize("seed", range(60))
def test_aggregates_match_sparks_semantics(seed):
    rows = random_events(seed)
    table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    got = user_aggregates(table)
    assert got.schema == AGGREGATE_SCHEMA
    expected = expected_aggregates(rows)
    actual = as_dict(got)
    assert actual.keys() == expected.keys()
    for key, values in expected.items():
        monetary = values.pop("monetary")
        assert actual[key].pop("monetary") == pytest.approx(monetary), key
        assert actual[key] == values, key


PLAN = WindowPlan(
    contributes_to={
        "2019-09": ["2019-11"],
        "2019-10": ["2019-11", "2019-12"],
        "2019-11": ["2019-12"],
    },
    categories=pa.table(
        {"product_id": pa.array([1, 2, 3], pa.int64()), "_category": pa.array([10, None, 30])}
    ),
)


def clean_events(seed: int) -> pa.Table:
    """Clean events as stored (``month``, ``product_id``), built from :func:`random_events`."""
    rng = random.Random(seed)
    rows = random_events(seed)
    for row in rows:
        row.pop("as_of"), row.pop("_category")
        row["month"] = rng.choice(["2019-08", "2019-09", "2019-10", "2019-11"])
        row["product_id"] = rng.choice([1, 2, 3, 4, None])
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize("seed", range(40))
def test_each_event_counts_once_for_each_window_holding_it_with_its_first_category(seed):
    events = clean_events(seed)
    got = windowed_events(events, PLAN)
    categories = dict(zip(*PLAN.categories.to_pydict().values(), strict=True))
    expected = [
        {
            **{c: row[c] for c in INPUT_COLUMNS if c in row},
            "as_of": as_of,
            "_category": categories.get(row["product_id"]),
        }
        for row in events.to_pylist()
        for as_of in PLAN.contributes_to.get(row["month"], [])
    ]
    key = lambda r: repr(sorted(r.items()))  # noqa: E731
    assert got.schema == INPUT_SCHEMA
    assert sorted(got.to_pylist(), key=key) == sorted(expected, key=key)


@pytest.mark.parametrize("seed", range(5))
def test_a_partition_in_many_batches_is_one_table(seed):
    """Spark hands a partition over in batches; a customer's events may span several."""
    events = clean_events(100 + seed)
    batches = events.to_batches(max_chunksize=7)
    assert len(batches) > 1 or events.num_rows <= 7
    joined = pa.Table.from_batches(list(aggregate_partition(PLAN)(iter(batches))), AGGREGATE_SCHEMA)
    assert as_dict(joined) == as_dict(user_aggregates(windowed_events(events, PLAN)))


def test_extra_columns_are_ignored_and_an_empty_partition_yields_nothing():
    rows = random_events(7)
    table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    wider = table.append_column("product_id", pa.array(range(len(rows)), pa.int64()))
    assert as_dict(user_aggregates(wider)) == as_dict(user_aggregates(table))
    assert list(aggregate_partition(PLAN)(iter([]))) == []
    assert windowed_events(clean_events(3).slice(0, 0), PLAN) == INPUT_SCHEMA.empty_table()
    assert user_aggregates(INPUT_SCHEMA.empty_table()).num_rows == 0
    assert set(INPUT_COLUMNS) == set(INPUT_SCHEMA.names)
