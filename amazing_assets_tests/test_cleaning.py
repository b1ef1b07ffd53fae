"""Cleaning rules on real Spark: each rule charged once, accounting identity, pseudonymisation."""

import pyarrow as pa
from pyspark.sql import functions as F

from amazing_assets.defs.cleaning.classification import (
    PRICE_INPUT_COLUMNS,
    CleaningRules,
    classify_events,
    clean_view,
    quarantine_view,
)
from amazing_assets.defs.cleaning.clean_tables import (
    kept_duplicates,
    kept_violations,
    merged_counts,
    outcome_counts,
)
from amazing_assets.defs.cleaning.row_rules import outside_month
from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets_tests.support.spark_rows import RAW_SCHEMA, raw_event, raw_frame


def reasons(classified):
    return {r["_tag"]: r["drop_reason"] for r in classified.select("_tag", "drop_reason").collect()}


def tagged(spark, rows: dict[str, tuple]):
    """Raw rows with a ``_tag`` column naming each, to read back each row's outcome."""
    return spark.createDataFrame([(k, *v) for k, v in rows.items()], f"_tag string, {RAW_SCHEMA}")


def test_each_rule_charges_its_rows_and_nothing_else(spark):
    rows = {
        "ok": raw_event("2019-10-01 10:00:00", user=1),
        "defect": raw_event("2019-10-01 10:00:01", user=1, defect="unparseable_price"),
        "type": raw_event("2019-10-01 10:00:02", kind="wishlist", user=1),
        "late": raw_event("2019-11-01 00:00:01", user=1, month="2019-10"),
        "negative": raw_event("2019-10-01 10:00:03", user=1, price=-5.0),
        "free": raw_event("2019-10-01 10:00:04", user=1, price=0.0, product=9),
        "absurd": raw_event("2019-10-01 10:00:05", user=1, price=999_999.0),
        "cart1": raw_event("2019-10-01 10:00:06", kind="cart", user=1, product=2),
        "cart2": raw_event("2019-10-01 10:00:06", kind="cart", user=1, product=2),
        "cart3": raw_event("2019-10-01 10:00:06", kind="cart", user=1, product=2),
        "view1": raw_event("2019-10-01 10:00:07", user=1, product=3),
        "view2": raw_event("2019-10-01 10:00:07", user=1, product=3),
        "view_other_product": raw_event("2019-10-01 10:00:07", user=1, product=4),
    }
    classified = classify_events(tagged(spark, rows), CleaningRules())
    assert reasons(classified) == {
        "ok": None,
        "defect": "unparseable_price",
        "type": "unknown_event_type",
        "late": "outside_month",
        "negative": "negative_price",
        "free": None,
        "absurd": "absurd_price",
        "cart1": None,
        "cart2": "cart_burst",
        "cart3": "cart_burst",
        "view1": None,
        "view2": "exact_duplicate",
        "view_other_product": None,
    }


def test_absurd_price_is_relative_to_the_category(spark):
    normal = {
        f"n{i}": raw_event(f"2019-10-02 10:00:{i:02d}", product=i, price=20.0 + i, user=i)
        for i in range(25)
    }
    normal["hundredfold"] = raw_event("2019-10-02 11:00:00", product=99, price=2_500.0, user=99)
    normal["other_category"] = raw_event(
        "2019-10-02 11:00:01", product=98, price=2_500.0, user=98, category=7
    )
    got = reasons(classify_events(tagged(spark, normal), CleaningRules()))
    assert got["hundredfold"] == "absurd_price"
    assert got["other_category"] is None  # too few prices in that category to judge
    assert sum(r is not None for r in got.values()) == 1


def test_bots_are_users_above_300_events_per_active_day(spark):
    bot = [
        raw_event(f"2019-10-03 {h:02d}:{m:02d}:00", user=666, product=h * 60 + m)
        for h in range(6)
        for m in range(60)
    ]
    human = [raw_event(f"2019-10-03 12:00:{s:02d}", user=7, product=s) for s in range(50)]
    classified = classify_events(raw_frame(spark, bot + human), CleaningRules())
    by_user = {
        (r["user_id"], r["drop_reason"]): r["count"]
        for r in classified.groupBy("user_id", "drop_reason").count().collect()
    }
    assert by_user == {(666, "bot_user"): 360, (7, None): 50}


def test_accounting_identity_and_clean_shape(spark):
    rows = [
        raw_event("2019-10-01 10:00:00", code=None, brand=None),
        raw_event("2019-10-01 10:00:00", code=None, brand=None),
        raw_event("2019-10-01 10:00:01", defect="missing_user_id"),
    ]
    classified = classify_events(raw_frame(spark, rows))
    clean, quarantine = clean_view(classified), quarantine_view(classified)
    assert clean.count() + quarantine.count() == len(rows)
    row = clean.first()
    assert (row["category_code"], row["brand"]) == ("unknown", "unknown")
    assert sorted(r["reason"] for r in quarantine.collect()) == [
        "exact_duplicate",
        "missing_user_id",
    ]


def test_pseudonymisation_runs_on_executors_and_leaves_no_raw_id(spark):
    key = b"a-test-key-of-sufficient-length"
    rows = [raw_event("2019-10-01 10:00:00", user=541312140, session="72d76fde")]
    clean = clean_view(classify_events(raw_frame(spark, rows), key=key))
    assert "user_id" not in clean.columns and "user_session" not in clean.columns
    row = clean.first()
    assert row["user_key"] == Pseudonymizer(key).token(541312140)
    assert row["session_key"] == Pseudonymizer(key).token("72d76fde")
    assert "541312140" not in clean.select(F.to_json(F.struct("*"))).first()[0]
    assert "541312140" not in clean._jdf.queryExecution().toString()
    assert key.decode() not in clean._jdf.queryExecution().toString()


def test_the_quarantine_never_keeps_a_raw_id_beside_its_token(spark):
    """Before: ``_raw_line`` kept the raw user id and session next to ``user_key``."""
    key = b"a-test-key-of-sufficient-length"
    session = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    line = f"2019-10-01 10:00:00 UTC,view,1,100,x,acme,1e999,541312140.0,{session}"
    bad_price = list(raw_event("2019-10-01 10:00:00", user=541312140, session=session))
    bad_price[10:12] = ["unparseable_price", line]
    small_id = list(raw_event("2019-10-01 10:00:01", user=42, session="s-42"))
    small_id[10:12] = [
        "unparseable_price",
        "2019-10-01 10:00:01 UTC,view,42,100,x,acme,4.2x,42,s-42",
    ]
    bad_id = list(raw_event("2019-10-01 10:00:02", user=None, session=session))
    bad_id[10:12] = [
        "unparseable_user_id",
        f"2019-10-01 10:00:02 UTC,view,1,100,x,acme,1,5.4E+08,{session}",
    ]
    rows = [tuple(bad_price), tuple(small_id), tuple(bad_id)]
    quarantine = quarantine_view(classify_events(raw_frame(spark, rows), key=key))
    lines = {f"{r['reason']}:{r['_raw_line'][17:19]}": r["_raw_line"] for r in quarantine.collect()}
    assert all("541312140" not in text and session not in text for text in lines.values())
    assert lines["unparseable_price:00"].endswith(",1e999,[user_id],[user_session]")
    # A short id is masked as a whole field only: "4.2x" and "100" keep their digits. A field
    # equal to the id (here the product) is masked too: the safe side.
    assert lines["unparseable_price:01"].endswith(
        ",view,[user_id],100,x,acme,4.2x,[user_id],[user_session]"
    )
    assert lines["unparseable_user_id:02"].endswith(",5.4E+08,[user_session]")


def test_a_narrow_price_read_classifies_like_the_whole_rows(spark):
    rows = {
        f"n{i}": raw_event(f"2019-10-02 10:00:{i:02d}", product=i, price=20.0 + i, user=i)
        for i in range(25)
    }
    rows["absurd"] = raw_event("2019-10-02 11:00:00", product=99, price=2_500.0, user=99)
    rows["dup"] = raw_event("2019-10-02 10:00:01", product=1, price=21.0, user=1)
    raw = tagged(spark, rows)
    narrow = raw.select(*PRICE_INPUT_COLUMNS)
    assert reasons(classify_events(raw, prices=narrow)) == reasons(classify_events(raw))
    assert reasons(classify_events(raw, prices=narrow))["absurd"] == "absurd_price"


def test_kept_duplicates_are_found_and_null_swaps_are_not_duplicates(spark):
    base = raw_event("2019-10-01 10:00:00", code=None, brand="x")
    swapped = raw_event("2019-10-01 10:00:00", code="x", brand=None)
    kept = F.lit(None).cast("string")
    frame = raw_frame(spark, [base, base, swapped]).withColumn("drop_reason", kept)
    assert kept_duplicates(frame.toArrow()) == 1
    frame = raw_frame(spark, [base, swapped]).withColumn("drop_reason", kept)
    assert kept_duplicates(frame.toArrow()) == 0
    copies = raw_frame(spark, [base, base]).withColumn("drop_reason", kept).toArrow()
    one_dropped = copies.set_column(
        copies.schema.get_field_index("drop_reason"),
        "drop_reason",
        pa.array(["bot_user", None], pa.string()),
    )
    assert kept_duplicates(one_dropped) == 0  # a copy charged to a rule is no kept duplicate


def test_violations_are_counted_on_kept_rows_only_in_the_accounting_pass(spark):
    good = raw_event("2019-10-01 10:00:00")
    no_user = raw_event("2019-10-01 10:00:01", user=None)
    negative = raw_event("2019-10-01 10:00:02", price=-1.0)
    dropped = [  # product 9 marks the rows charged to a rule: their violations do not count
        raw_event("2019-10-01 10:00:03", user=None, product=9),
        raw_event("2019-10-01 10:00:04", price=-1.0, product=9),
    ]
    frame = raw_frame(spark, [good, no_user, negative, *dropped]).withColumn(
        "drop_reason",
        F.when(F.col("product_id") == 9, F.lit("bot_user")).otherwise(F.lit(None).cast("string")),
    )
    rows = frame.toArrow()
    # Counted per task and added up: two halves give what the whole gives.
    groups = merged_counts(outcome_counts(rows.slice(0, 2)) + outcome_counts(rows.slice(2)))
    assert sorted((g["drop_reason"] or "", g["count"]) for g in groups) == [
        ("", 3),
        ("bot_user", 2),
    ]
    assert sorted(groups, key=str) == sorted(outcome_counts(rows), key=str)
    assert kept_violations(groups, kept_duplicates(rows)) == {
        "null_keys": 1,
        "bad_types": 0,
        "negative_prices": 1,
        "duplicates": 0,
    }


def test_the_bounds_test_for_outside_month_agrees_with_formatting_the_time():
    """Random instants around month edges (a microsecond either side, December → January, leap
    February), null times: comparing with the month's bounds gives what formatting gives."""
    import random
    from datetime import UTC, datetime, timedelta

    rng = random.Random(13)
    months = ["2019-12", "2020-01", "2020-02", "2024-02"]
    edges = [datetime(2019, 12, 1), datetime(2020, 1, 1), datetime(2020, 2, 1)]
    edges += [datetime(2020, 3, 1), datetime(2024, 2, 29, 23, 59, 59), datetime(2024, 3, 1)]
    rows = []
    for _ in range(3_000):
        edge = rng.choice(edges).replace(tzinfo=UTC)
        offset = rng.choice([-1, 0, 1, rng.randint(-(10**12), 10**12)])
        time = None if rng.random() < 0.02 else edge + timedelta(microseconds=offset)
        rows.append((time, rng.choice([*months, "2020-03", "2019-11"])))
    table = pa.table(
        {
            "event_time": pa.array([r[0] for r in rows], pa.timestamp("us", tz="UTC")),
            "month": pa.array([r[1] for r in rows], pa.string()),
        }
    )
    formatted = [None if t is None else t.strftime("%Y-%m") != m for t, m in rows]
    compared = [{"bounds": b} for b in outside_month(table).to_pylist()]
    assert [r["bounds"] for r in compared] == formatted
    assert {r["bounds"] for r in compared} == {True, False, None}
