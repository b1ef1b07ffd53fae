"""End to end through Dagster on real local Spark and real Delta tables."""

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from amazing_assets.defs.segments.migration import GONE, NEW
from amazing_assets.defs.segments.prediction import behaviour_features, load_predictor
from amazing_assets.demo import quarantine_reasons
from amazing_assets.lib.delta_tables import month_row_counts, open_table, read_months
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from amazing_assets_tests.support.pipeline_run import ASSETS, MONTHS, definitions_for, run

pytestmark = pytest.mark.slow


def export_rows(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") - 1 + (not data.endswith(b"\n"))


def table(tmp: Path, name: str) -> Location:
    return table_location(Location.parse(str(tmp / "warehouse")), name)


def test_a_two_month_backfill_fills_every_month_with_its_own_checks(backfilled):
    tmp, landing, _, result = backfilled
    materialized = {
        (m.asset_key.to_user_string(), m.partition)
        for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    for asset in ASSETS:
        assert {(asset, f"{m}-01") for m in MONTHS} <= materialized
    raw = month_row_counts(table(tmp, "raw_events"))
    assert raw == {m: export_rows(landing / m / "events.csv") for m in MONTHS}
    # One run per month: every check result is tied to its month (Dagster ties them only when a
    # run covers a single partition), and each month's figures are its own.
    for month, month_result in result.by_month.items():
        evaluations = month_result.get_asset_check_evaluations()
        assert evaluations and {c.partition for c in evaluations} == {f"{month}-01"}
        identity = next(c for c in evaluations if c.check_name == "accounting_identity")
        assert identity.metadata["raw_rows"].value == {month: raw[month]}


def test_accounting_identity_holds_per_month(backfilled):
    tmp, _, _, result = backfilled
    raw = month_row_counts(table(tmp, "raw_events"))
    clean = month_row_counts(table(tmp, "clean_events"))
    dropped = quarantine_reasons(table(tmp, "event_quarantine"), MONTHS)
    for month in MONTHS:
        assert raw[month] == clean[month] + sum(dropped[month].values())
        assert {"cart_burst", "exact_duplicate", "bot_user"} <= set(dropped[month])
    checks = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "accounting_identity"
    ]
    assert checks and all(c.passed for c in checks)


def test_features_have_one_row_per_customer_of_the_trailing_window(backfilled):
    tmp, _, _, _ = backfilled
    clean = read_months(table(tmp, "clean_events"), MONTHS, columns=["month", "user_key"])
    features = read_months(table(tmp, "user_features_rfm"), MONTHS)
    oct_users = set(pc.filter(clean["user_key"], pc.equal(clean["month"], "2019-10")).to_pylist())
    all_users = set(clean["user_key"].to_pylist())
    by_month = {
        m: pc.filter(features["user_key"], pc.equal(features["month"], m)).to_pylist()
        for m in MONTHS
    }
    assert set(by_month["2019-10"]) == oct_users and len(by_month["2019-10"]) == len(oct_users)
    assert set(by_month["2019-11"]) == all_users  # the window reaches back to October
    for column in ("view_to_cart_rate", "cart_to_purchase_rate", "share_weekend"):
        values = features[column]
        assert pc.min(values).as_py() >= 0 and pc.max(values).as_py() <= 1


def test_no_raw_identifier_reaches_clean_events_or_later(backfilled):
    tmp, _, _, _ = backfilled
    raw = read_months(table(tmp, "raw_events"), MONTHS, columns=["user_id", "user_session"])
    raw_ids = set(map(str, raw["user_id"].to_pylist())) | set(raw["user_session"].to_pylist())
    for name in ("clean_events", "user_features_rfm"):
        data = read_months(table(tmp, name), MONTHS)
        assert "user_id" not in data.column_names and "user_session" not in data.column_names
        for column in data.column_names:
            if data.schema.field(column).type == "string":
                assert not raw_ids & set(data[column].unique().to_pylist()), (name, column)


def test_monthly_kpis_match_the_clean_events_of_each_month(backfilled):
    tmp, _, _, result = backfilled
    kpis = read_months(table(tmp, "monthly_kpis"), MONTHS).to_pandas().set_index("month")
    events = read_months(
        table(tmp, "clean_events"),
        MONTHS,
        columns=["month", "event_type", "price", "user_key", "session_key"],
    ).to_pandas()
    for month in MONTHS:
        month_events = events[events["month"] == month]
        purchases = month_events[month_events["event_type"] == "purchase"]
        row = kpis.loc[month]
        assert row["customers"] == month_events["user_key"].nunique()
        assert row["purchasers"] == purchases["user_key"].nunique() > 0
        assert row["orders"] == purchases["session_key"].nunique()
        assert row["revenue"] == pytest.approx(purchases["price"].sum(), abs=0.01)
        assert row["avg_order_value"] == pytest.approx(row["revenue"] / row["orders"], abs=0.01)
    checks = [c for c in result.get_asset_check_evaluations() if c.check_name == "kpis_consistent"]
    assert checks and all(c.passed for c in checks)


def test_every_month_has_named_segments_and_a_usable_model(backfilled):
    tmp, _, _, _ = backfilled
    warehouse = Location.parse(str(tmp / "warehouse"))
    profiles = read_months(table(tmp, "cluster_profiles"), MONTHS).to_pandas()
    assignments = read_months(table(tmp, "kmeans_model/assignments"), MONTHS).to_pandas()
    for month in MONTHS:
        month_profiles = profiles[profiles["month"] == month]
        assert month_profiles["name"].is_unique
        assert month_profiles["share"].sum() == pytest.approx(1.0)
        assert month_profiles["size"].sum() == (assignments["month"] == month).sum()
        predictor = load_predictor(warehouse, month)
        assert predictor.predict(
            behaviour_features(recency_days=1, orders=0, spend=0, views=5, carts=0)
        ).name


def test_migration_accounts_for_every_customer_of_both_months(backfilled):
    tmp, _, _, _ = backfilled
    flows = read_months(table(tmp, "segment_migration"), ["2019-11"]).to_pandas()
    assignments = read_months(table(tmp, "kmeans_model/assignments"), MONTHS).to_pandas()
    in_nov = set(assignments.loc[assignments["month"] == "2019-11", "user_key"])
    in_oct = set(assignments.loc[assignments["month"] == "2019-10", "user_key"])
    assert flows.loc[flows["to_name"] != GONE, "customers"].sum() == len(in_nov)
    assert flows.loc[flows["from_name"] != NEW, "customers"].sum() == len(in_oct)


def test_rematerialising_a_month_replaces_it_and_keeps_history(backfilled, tmp_path):
    # On a copy: rewriting a month of the session's shared warehouse would make the other
    # tests' outcome depend on whether they run before or after this one.
    tmp = tmp_path / "copy"
    shutil.copytree(backfilled.tmp, tmp, symlinks=True)
    defs = definitions_for(tmp, tmp / backfilled.landing.relative_to(backfilled.tmp))
    location = table(tmp, "clean_events")
    before, version_before = month_row_counts(location), open_table(location).version()
    segments_before = read_months(table(tmp, "kmeans_model/assignments"), ["2019-11"]).to_pandas()
    names_before = (
        read_months(table(tmp, "cluster_profiles"), ["2019-11"]).to_pandas()["name"].tolist()
    )
    result = run(defs, partition_key="2019-11-01")
    assert result.success
    assert month_row_counts(location) == before  # replaced, not doubled
    assert open_table(location).version() == version_before + 1
    assert month_row_counts(location, version=version_before) == before  # time travel
    # Same inputs, same seed: same segments and same names.
    segments_after = read_months(table(tmp, "kmeans_model/assignments"), ["2019-11"]).to_pandas()
    merged = segments_before.merge(segments_after, on="user_key")
    assert (
        len(merged) == len(segments_before) and (merged["segment_x"] == merged["segment_y"]).all()
    )
    names_after = (
        read_months(table(tmp, "cluster_profiles"), ["2019-11"]).to_pandas()["name"].tolist()
    )
    assert names_after == names_before


def test_real_excerpt_ingests_with_its_cut_off_line_counted(
    tmp_path, landing_with_real_october, spark
):
    defs = definitions_for(tmp_path, landing_with_real_october)
    result = run(defs, partition_key="2019-10-01")
    assert result.success
    export = next((landing_with_real_october / "2019-10").glob("*.csv"))
    assert month_row_counts(table(tmp_path, "raw_events")) == {"2019-10": export_rows(export)}
    reasons = quarantine_reasons(table(tmp_path, "event_quarantine"), ["2019-10"])["2019-10"]
    assert reasons["wrong_field_count"] == 1
    # The excerpt's 5 exact duplicate rows: one is a cart, charged to the cart-burst rule.
    assert reasons["exact_duplicate"] + reasons["cart_burst"] == 5 and reasons["cart_burst"] == 1
    clean = month_row_counts(table(tmp_path, "clean_events"))["2019-10"]
    assert clean + sum(reasons.values()) == export_rows(export)
    zero_prices = read_months(table(tmp_path, "clean_events"), ["2019-10"], columns=["price"])
    assert pc.sum(pc.equal(zero_prices["price"], 0.0)).as_py() == 19  # kept, never revenue
    # Minutes of one day hold no repeat buyer: no value is predicted, and the check says why.
    assert month_row_counts(table(tmp_path, "customer_value")).get("2019-10", 0) == 0
    calibration = next(
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "calibration_within_bounds"
    )
    assert not calibration.passed and "repeat buyers" in calibration.description


def test_customer_value_predicts_every_buyer_and_feeds_the_segments(backfilled):
    tmp, _, _, result = backfilled
    events = read_months(
        table(tmp, "clean_events"), MONTHS, columns=["month", "event_type", "price", "user_key"]
    ).to_pandas()
    value = read_months(table(tmp, "customer_value"), MONTHS).to_pandas()
    profiles = read_months(table(tmp, "cluster_profiles"), MONTHS).to_pandas()
    for month in MONTHS:
        priced = events[
            (events["event_type"] == "purchase")
            & (events["price"] > 0)
            & (events["month"] <= month)
        ]
        month_value = value[value["month"] == month]
        # Every buyer up to the month, all months read (not a window), and nobody else.
        assert set(month_value["user_key"]) == set(priced["user_key"])
        assert month_value["user_key"].str.fullmatch(r"[0-9a-f]{32}").all()
        assert (month_value["expected_revenue_90d"] >= 0).all()
        assert month_value["p_alive"].between(0, 1).all()
        month_profiles = profiles[profiles["month"] == month]
        assert month_profiles["expected_revenue_90d"].sum() == pytest.approx(
            month_value["expected_revenue_90d"].sum()
        )
        assert month_profiles["modelled_buyers"].sum() == len(month_value)
        buyers = month_profiles[month_profiles["buyer_share"] >= 0.8]
        assert buyers["churn_risk"].notna().all() and buyers["value_action_fr"].notna().all()
    checks = {
        (c.check_name, c.partition): c.passed
        for c in result.get_asset_check_evaluations()
        if c.asset_key.to_user_string() == "customer_value"
    }
    for month in MONTHS:
        assert checks[("parameters_finite", f"{month}-01")]
        assert checks[("predictions_valid", f"{month}-01")]


def test_a_month_without_exports_fails_with_what_to_do(tmp_path, spark):
    (tmp_path / "landing").mkdir()
    result = run(definitions_for(tmp_path, tmp_path / "landing"), partition_key="2019-10-01")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "drop the month's CSV" in str(
        failure.event_specific_data.error.message
    ) or "no export" in str(failure)
