"""Per-user features on real Spark, against values computed by hand."""

import pytest

from amazing_assets.defs.features.features import (
    FEATURE_COLUMNS,
    add_months,
    compute_user_features,
    window_months,
)
from amazing_assets_tests.support.spark_rows import at

SCHEMA = (
    "event_time timestamp, event_type string, product_id long, category_id long, "
    "category_code string, brand string, price double, user_key string, session_key string, "
    "month string"
)


def event(time, kind, user="u1", session="s1", product=1, price=10.0, category=100, brand="acme"):
    return (at(time), kind, product, category, "c", brand, price, user, session, time[:7])


def test_month_arithmetic():
    assert add_months("2019-12", 1) == "2020-01" and add_months("2019-10", -2) == "2019-08"
    assert window_months("2019-12", 3) == ["2019-10", "2019-11", "2019-12"]


@pytest.fixture(scope="module")
def features(spark):
    rows = [
        # u1: an October order of 2 items (session a); December browsing and a cart (b, c).
        event("2019-10-05 09:00:00", "view", session="a", product=1, price=100.0),
        event("2019-10-05 09:01:00", "cart", session="a", product=1, price=100.0),
        event("2019-10-05 09:05:00", "purchase", session="a", product=1, price=100.0),
        event(
            "2019-10-05 09:06:00",
            "purchase",
            session="a",
            product=2,
            price=50.0,
            category=200,
            brand="unknown",
        ),
        event(
            "2019-12-07 20:00:00",
            "view",
            session="b",
            product=3,
            price=5.0,
            category=300,
            brand="zeta",
        ),
        event(
            "2019-12-07 20:01:00",
            "cart",
            session="b",
            product=3,
            price=5.0,
            category=300,
            brand="zeta",
        ),
        event(
            "2019-12-07 20:02:00",
            "remove_from_cart",
            session="b",
            product=3,
            price=5.0,
            category=300,
            brand="zeta",
        ),
        # Product 1 was remapped to category 999 in December: counts as its first-seen category.
        event("2019-12-09 08:00:00", "view", session="c", product=1, price=100.0, category=999),
        # u2: only views, in November.
        event("2019-11-30 23:00:00", "view", user="u2", session="x"),
    ]
    df = spark.createDataFrame(rows, SCHEMA)
    out = compute_user_features(df, ["2019-10", "2019-12"], window=3).collect()
    return {(r["month"], r["user_key"]): r.asDict() for r in out}


def test_one_row_per_user_and_as_of_month(features):
    assert set(features) == {("2019-10", "u1"), ("2019-12", "u1"), ("2019-12", "u2")}
    assert list(next(iter(features.values())))[2:] == list(FEATURE_COLUMNS)


def test_rfm_counts_orders_not_rows_and_uses_the_month_end(features):
    dec = features[("2019-12", "u1")]
    assert dec["frequency"] == 1  # one purchase session, two purchase rows
    assert dec["n_purchases"] == 2
    assert dec["monetary"] == 150.0 and dec["avg_order_value"] == 150.0
    assert dec["recency_days"] == pytest.approx(
        (at("2020-01-01 00:00:00") - at("2019-12-09 08:00:00")).total_seconds() / 86400
    )
    assert dec["days_since_last_purchase"] == pytest.approx(
        (at("2020-01-01 00:00:00") - at("2019-10-05 09:06:00")).total_seconds() / 86400
    )
    assert dec["tenure_days"] == pytest.approx(
        (at("2020-01-01 00:00:00") - at("2019-10-05 09:00:00")).total_seconds() / 86400
    )


def test_funnel_rates_sessions_and_variety(features):
    dec = features[("2019-12", "u1")]
    assert (dec["n_views"], dec["n_carts"], dec["n_removes"], dec["n_events"]) == (3, 2, 1, 8)
    assert dec["n_sessions"] == 3 and dec["events_per_session"] == pytest.approx(8 / 3)
    assert dec["view_to_cart_rate"] == pytest.approx(2 / 3)
    assert dec["cart_to_purchase_rate"] == 1.0  # 2 purchases / 2 carts, capped at 1
    assert dec["n_categories"] == 3  # 100 (product 1, first seen), 200, 300 — not 999
    assert dec["n_brands"] == 2  # acme, zeta; "unknown" does not count
    assert dec["active_days"] == 3
    assert dec["share_weekend"] == pytest.approx(
        7 / 8
    )  # Sat 2019-10-05, Sat 2019-12-07; Mon 2019-12-09 is not
    assert dec["share_evening"] == pytest.approx(3 / 8) and dec["share_morning"] == pytest.approx(
        5 / 8
    )


def test_a_customer_who_never_bought_gets_the_window_length_not_null(features):
    u2 = features[("2019-12", "u2")]
    assert u2["frequency"] == 0 and u2["monetary"] == 0.0 and u2["avg_order_value"] == 0.0
    assert u2["days_since_last_purchase"] == 92.0  # Oct 1 → Jan 1
    assert u2["cart_to_purchase_rate"] == 0.0


def test_as_of_october_sees_nothing_after_october(features):
    octo = features[("2019-10", "u1")]
    assert octo["n_events"] == 4 and octo["n_categories"] == 2
