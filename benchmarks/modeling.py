"""Modelling stage at scale: pca_embedding, kmeans_model and cluster_profiles on N customers.

Per-user features come from a real pipeline run (``benchmarks.run`` leaves them in
``benchmarks/work``), bootstrap-resampled with a little noise to N customers, so the distribution
is the generator's while the size is what a real month has (3-4.6 M customers in REES46).

    python -m benchmarks.modeling --customers 1000000
    python -m benchmarks.modeling --customers 1000000 --source populations

``--source populations`` resamples the independent generator's largest population instead
(no pipeline run needed).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from amazing_assets.defs.features.features import FEATURE_COLUMNS
from amazing_assets.defs.segments.chain import embed_stage, profile_stage, segment_stage
from amazing_assets.defs.segments.modeling import (
    ModelingConfig,
    bootstrap_stability,
    sample_rows,
    segment_pipeline,
)
from amazing_assets.lib.delta_tables import read_months
from amazing_assets.lib.storage import Location
from amazing_assets_tests.support.populations import SUITE, per_user_features, simulate
from benchmarks.memory import PeakMemory
from benchmarks.run import RESULTS

COUNT_COLUMNS = [
    c for c in FEATURE_COLUMNS if c.startswith("n_") or c in ("frequency", "active_days")
]


def resample(features: pd.DataFrame, customers: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = features.iloc[rng.integers(0, len(features), customers)].reset_index(drop=True)
    for column in ("recency_days", "monetary", "avg_order_value", "tenure_days"):
        out[column] = out[column] * rng.uniform(0.97, 1.03, customers)  # no exact ties
    out["user_key"] = [f"u{i:08d}" for i in range(customers)]
    return out


def source_features(source: str, work: Path) -> pd.DataFrame:
    """Per-user features to resample: a pipeline run's month, or the largest population."""
    if source == "populations":
        largest = max(SUITE, key=lambda s: s.customers)
        return per_user_features(simulate(largest)).drop(columns="behaviour")
    location = Location.parse(str(work / "warehouse" / "user_features_rfm"))
    return read_months(location, ["2019-10"]).to_pandas()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work")
    parser.add_argument("--source", choices=("pipeline", "populations"), default="pipeline")
    args = parser.parse_args(argv)
    features = resample(source_features(args.source, args.work), args.customers)
    config = ModelingConfig()
    timings: dict[str, dict] = {}
    with PeakMemory() as memory:
        started = time.perf_counter()
        embedded = embed_stage(features, config)
        Z, tier = embedded.Z, embedded.tier
        timings["pca_embedding"] = {"seconds": round(time.perf_counter() - started, 2)}

        started = time.perf_counter()
        segmented = segment_stage(Z, tier, config, features)
        selection, kmeans, labels = segmented.selection, segmented.kmeans, segmented.labels
        stability = bootstrap_stability(Z, tier, kmeans, selection, config)
        segment_pipeline(embedded.embedding, kmeans)
        timings["kmeans_model"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "k": selection.k,
            "why_this_k": selection.reasons,
        }

        started = time.perf_counter()
        named = profile_stage(features, labels)
        timings["cluster_profiles"] = {"seconds": round(time.perf_counter() - started, 2)}

    from sklearn.metrics import silhouette_score

    rows = sample_rows(len(Z), 100_000, 1)
    started = time.perf_counter()
    silhouette_100k = float(silhouette_score(Z[rows], labels[rows]))
    report = {
        "customers": args.customers,
        "source": args.source,
        "load_average_1min": round(os.getloadavg()[0], 2),  # the machine is shared
        "stages": timings,
        "peak_rss_gib_all_three": round(memory.peak / 2**30, 2),
        "chosen_k": selection.k,
        "silhouette_100k_sample": round(silhouette_100k, 4),
        "silhouette_100k_seconds": round(time.perf_counter() - started, 1),
        "min_bootstrap_jaccard": round(min(stability.values()), 4),
        "segments": named[["name", "size", "share"]].round(4).to_dict("records"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.source == "pipeline" else f"-{args.source}"
    (RESULTS / f"modeling-{args.customers}-customers{suffix}.json").write_text(
        json.dumps(report, indent=2) + "\n"
    )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
