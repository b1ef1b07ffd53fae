"""Benchmarks with figures: generator speed, each asset's wall time and rows/s, peak memory of
the whole process tree (Python + Spark JVM), and real-time prediction latency.

    python -m benchmarks.run --events 1000000 --users 60000

Then runs the segmentation robustness suite (``benchmarks/robustness.py``) unless
``--skip-robustness``.

Writes ``benchmarks/results/<name>.json`` and prints a Markdown table. The ETL against the
single-node reference (same month, same counts, ratio) is ``benchmarks/etl.py``
(``make bench-etl EVENTS=10000000``). Speed goals are checked
here, against recorded figures, not in unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import time
from pathlib import Path

import dagster as dg
import psutil

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.defs.segments.prediction import behaviour_features, load_predictor
from amazing_assets.lib.delta_tables import month_row_counts
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from benchmarks.memory import PeakMemory

RESULTS = Path(__file__).parent / "results"


def step_durations(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    return {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.event_type_value == "STEP_SUCCESS"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work")
    parser.add_argument("--name", default=None, help="results file name (default: events-users)")
    parser.add_argument(
        "--skip-robustness", action="store_true", help="skip the robustness suite (issue 12)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("AMAZING_PSEUDONYMIZATION_KEY", "benchmark-key-not-a-secret-0123456789")
    shutil.rmtree(args.work, ignore_errors=True)
    landing, warehouse = args.work / "landing", args.work / "warehouse"

    started = time.perf_counter()
    generated = generate_month(
        GenerationSpec(month="2019-10", events=args.events, users=args.users, seed=args.seed),
        landing,
    )
    generation_seconds = time.perf_counter() - started

    settings = load_settings(
        {
            "AMAZING_HOME": str(args.work / "home"),
            "AMAZING_LANDING": str(landing),
            "AMAZING_WAREHOUSE": str(warehouse),
        }
    )
    job = build_definitions(settings).resolve_job_def("monthly_segments")
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = job.execute_in_process(
            partition_key="2019-10-01", instance=dg.DagsterInstance.ephemeral()
        )
        pipeline_seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit("the benchmark run failed")
    steps = step_durations(result)
    location = Location.parse(str(warehouse))
    raw_rows = month_row_counts(table_location(location, "raw_events"))["2019-10"]
    customers = month_row_counts(location.child("user_features_rfm"))["2019-10"]
    rows_in = {
        "raw_events": raw_rows,
        "clean_events": raw_rows,
        "user_features_rfm": month_row_counts(location.child("clean_events"))["2019-10"],
        "pca_embedding": customers,
        "kmeans_model": customers,
        "cluster_profiles": customers,
        "segment_migration": customers,
    }

    predictor = load_predictor(location, "2019-10")
    latencies = []
    for i in range(200):
        features = behaviour_features(
            recency_days=i % 30, orders=i % 5, spend=37.0 * (i % 9), views=5 + i % 40, carts=i % 7
        )
        t = time.perf_counter()
        predictor.predict(features)
        latencies.append((time.perf_counter() - t) * 1000)

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "input": {
            "events_requested": args.events,
            "rows": generated.rows,
            "users": args.users,
            "active_customers": generated.active_users,
            "csv_bytes": generated.path.stat().st_size,
        },
        "generator": {
            "seconds": round(generation_seconds, 2),
            "rows_per_second": round(generated.rows / generation_seconds),
        },
        "pipeline": {
            "wall_seconds": round(pipeline_seconds, 1),
            "peak_rss_gib": round(memory.peak / 2**30, 2),
        },
        "assets": {
            step: {
                "seconds": round(seconds, 2),
                "rows_in": rows_in.get(step),
                "rows_per_second": round(rows_in[step] / seconds) if step in rows_in else None,
            }
            for step, seconds in steps.items()
        },
        "prediction_ms": {
            "median": round(statistics.median(latencies), 3),
            "p99": round(sorted(latencies)[int(len(latencies) * 0.99) - 1], 3),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.name or f"pipeline-{args.events}-events-{args.users}-users"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    if not args.skip_robustness:
        # Imported here: the suite imports RESULTS from this module.
        from benchmarks import robustness

        return robustness.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
