"""Robustness: segments on populations from an independent generator (issue 12, CI slice).

The full suite (14 populations, 5 k to 200 k customers) runs in ``make bench``
(``benchmarks/robustness.py``); here, three small populations through the per-user path, and
one through the real chain (REES46 CSV → ingestion → cleaning → Spark features) to prove the
fast path computes the features the way the pipeline does.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import functions as F

from amazing_assets.defs.features.features import FEATURE_COLUMNS
from amazing_assets_tests.support.populations import (
    CI_SLICE,
    SEVEN,
    SUITE,
    PopulationSpec,
    per_user_features,
    simulate,
    write_landing,
)
from benchmarks.robustness import score, score_features

FAST_CUSTOMERS = 5_000
"""Populations this small stay in ``make test-fast``; the larger ones run with the slow suite."""


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(s, marks=[] if s.customers <= FAST_CUSTOMERS else [pytest.mark.slow])
        for s in SUITE
        if s.name in CI_SLICE
    ],
    ids=lambda s: s.name,
)
def test_segments_hold_on_an_independent_population(spec: PopulationSpec):
    result = score(spec)
    assert result.ari >= 0.80, result.row()
    assert result.false_names == [], result.false_names
    assert result.unfitting == [], result.behaviour_names


def test_the_generator_plants_what_it_says():
    features = per_user_features(simulate(PopulationSpec("check", 3_000, SEVEN, seed=3)))
    by = features.groupby("behaviour")
    assert (by["frequency"].min()[["one_visit_browser", "heavy_researcher"]] == 0).all()
    assert by["frequency"].max()["cart_abandoner"] == 0
    assert (features.loc[features["behaviour"] == "single_buyer", "frequency"] == 1).all()
    assert by["days_since_last_purchase"].min()["lapsed_buyer"] > 30
    basket = by["avg_order_value"].median()
    assert basket["high_spender"] > 4 * basket["regular_buyer"]
    assert abs(features["behaviour"].eq("high_spender").mean() - 0.03) < 0.01


@pytest.fixture(scope="module")
def spark_features(spark, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small population through the real Spark chain, and the same one through numpy."""
    from amazing_assets.defs.cleaning.classification import classify_events, clean_view
    from amazing_assets.defs.features.features import compute_user_features, window_months
    from amazing_assets.defs.ingestion.assets import read_landing
    from amazing_assets.defs.ingestion.landing import list_month_files
    from amazing_assets.lib.storage import Location

    spec = PopulationSpec("through-spark", 4_000, SEVEN, seed=21)
    events = simulate(spec)
    landing = tmp_path_factory.mktemp("populations") / "landing"
    write_landing(events, landing)
    location = Location.parse(str(landing))
    months = window_months(spec.as_of, spec.window_months)
    raw = None
    for month in months:
        part = read_landing(spark, location, list_month_files(location, month), month)
        raw = part if raw is None else raw.unionByName(part)
    clean = clean_view(classify_events(raw)).select(
        "*",
        F.col("user_id").cast("string").alias("user_key"),
        F.col("user_session").alias("session_key"),
    )
    through_spark = compute_user_features(clean, [spec.as_of]).toPandas()
    truth = pd.read_csv(landing / "_ground_truth.csv", dtype={"user_id": str})
    through_spark = through_spark.merge(
        truth.rename(columns={"user_id": "user_key"}), on="user_key"
    )
    direct = per_user_features(events)
    direct["user_key"] = (512_000_000 + direct["user_key"].astype(int)).astype(str)
    return through_spark.drop(columns="month"), direct


@pytest.mark.spark
def test_the_fast_path_computes_the_pipelines_features(spark_features):
    through_spark, direct = spark_features
    assert len(through_spark) == len(direct)
    joined = through_spark.merge(direct, on="user_key", suffixes=("_spark", "_direct"))
    for column in FEATURE_COLUMNS:
        gap = (joined[f"{column}_spark"] - joined[f"{column}_direct"]).abs().max()
        assert gap < 1e-6 + 0.011 * (column in ("monetary", "avg_order_value")), (column, gap)


@pytest.mark.spark
def test_segments_hold_on_spark_computed_features(spark_features):
    through_spark, _ = spark_features
    result = score_features(PopulationSpec("through-spark", 4_000, SEVEN), through_spark)
    assert result.ari >= 0.80 and result.false_names == [], result.row()
