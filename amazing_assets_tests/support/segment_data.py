"""Per-user features of generated months, computed with the real Spark code (no Dagster)."""

from pathlib import Path

import pandas as pd
from pyspark.sql import functions as F

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.defs.cleaning.classification import classify_events, clean_view
from amazing_assets.defs.features.features import compute_user_features
from amazing_assets.defs.ingestion.assets import read_landing
from amazing_assets.defs.ingestion.landing import list_month_files
from amazing_assets.lib.storage import Location


def generated_features(
    spark, root: Path, seed: int, users: int = 12_000, events: int = 216_000
) -> pd.DataFrame:
    """Features of one generated October with the ground-truth archetype of each customer.

    Ids stay raw here (user_key = user_id) so the truth can be joined; the pipeline
    pseudonymises them, which changes nothing for the models.
    """
    landing = root / "landing"
    generate_month(GenerationSpec(month="2019-10", events=events, users=users, seed=seed), landing)
    location = Location.parse(str(landing))
    raw = read_landing(spark, location, list_month_files(location, "2019-10"), "2019-10")
    clean = clean_view(classify_events(raw)).select(
        "*",
        F.col("user_id").cast("string").alias("user_key"),
        F.col("user_session").alias("session_key"),
    )
    features = compute_user_features(clean, ["2019-10"]).toPandas()
    truth = pd.read_csv(landing / "_ground_truth" / "2019-10.csv", dtype={"user_id": str})
    return features.merge(truth.rename(columns={"user_id": "user_key"}), on="user_key", how="left")
