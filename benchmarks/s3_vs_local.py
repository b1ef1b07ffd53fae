"""The 2-month chain on local disk vs on an S3 protocol server (moto), side by side.

    python -m benchmarks.s3_vs_local --events 200000 --users 12000

Same generated months, same code; only AMAZING_LANDING / AMAZING_WAREHOUSE differ. Both runs
share one warm Spark session (started before either is timed), so the difference is storage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import boto3
import dagster as dg

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.lib.partitions import RANGE_END_TAG, RANGE_START_TAG
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.spark import build_spark_session
from amazing_assets.lib.storage import Location
from benchmarks.run import RESULTS

MONTHS = ["2019-10", "2019-11"]


def run_chain(landing: str, warehouse: str, home: Path) -> float:
    defs = build_definitions(
        load_settings(
            {"AMAZING_HOME": str(home), "AMAZING_LANDING": landing, "AMAZING_WAREHOUSE": warehouse}
        )
    )
    started = time.perf_counter()
    result = defs.resolve_job_def("monthly_segments").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: f"{MONTHS[0]}-01", RANGE_END_TAG: f"{MONTHS[-1]}-01"},
    )
    if not result.success:
        raise SystemExit(f"the chain failed on {warehouse}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=12_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work" / "s3")
    args = parser.parse_args(argv)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_REGION": "us-east-1",
        "AMAZING_PSEUDONYMIZATION_KEY": "benchmark-key-not-a-secret-0123456789",
    }.items():
        os.environ.setdefault(name, value)
    from amazing_assets_tests.conftest import start_moto  # the same server the tests use

    shutil.rmtree(args.work, ignore_errors=True)
    process, endpoint = start_moto()
    os.environ["AMAZING_S3_ENDPOINT"] = endpoint
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="amazing")
        landing = args.work / "landing"
        for index, month in enumerate(MONTHS):
            result = generate_month(
                GenerationSpec(
                    month=month, events=args.events, users=args.users, seed=3, month_index=index
                ),
                landing,
            )
            target = Location.parse(f"s3://amazing/landing/{month}/events.csv")
            with target.filesystem().open_output_stream(target.path) as out:
                out.write(result.path.read_bytes())
        build_spark_session()  # warm, shared by all runs
        # Alternate the two so that warm-up and caches favour neither; report every run.
        local: list[float] = []
        s3: list[float] = []
        for _ in range(args.rounds):
            local.append(run_chain(str(landing), str(args.work / "warehouse"), args.work / "home"))
            s3.append(
                run_chain("s3://amazing/landing", "s3://amazing/warehouse", args.work / "home-s3")
            )
    finally:
        process.terminate()
    report = {
        "months": MONTHS,
        "events_per_month": args.events,
        "users": args.users,
        "local_seconds": [round(x, 1) for x in local],
        "s3_seconds": [round(x, 1) for x in s3],
        "s3_over_local_best": round(min(s3) / min(local), 2),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "s3-vs-local.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
