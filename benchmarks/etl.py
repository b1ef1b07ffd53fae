"""The monthly ETL against a single-node engine doing the same work, on the same generated file.

    python -m benchmarks.etl --events 10000000              # ETL: raw, clean + quarantine, features
    python -m benchmarks.etl --events 42000000 --through cluster_profiles --no-reference

Generates one month of N events, then runs, each in its own process so that start-up (imports,
JVM, Python workers) is charged and memory is measured per side:

1. the pipeline's assets ``raw_events`` → ``clean_events`` + ``event_quarantine`` →
   ``user_features_rfm`` (→ ``cluster_profiles`` with ``--through``), as one Dagster run;
2. the DuckDB reference ``../shared/bench/same_work_duckdb.py`` (same rules, same counts).

Reports seconds per asset, rows/s, peak RSS of each process tree, the ratio, and the load
average of the machine at the start and end of each side (the machine may be shared: a figure
without its load is not comparable). The counts of both sides must agree; a difference fails
the benchmark. Results go to ``benchmarks/results/etl-<N>-events.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil

from benchmarks.memory import TreePeakMemory

RESULTS = Path(__file__).parent / "results"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "same_work_duckdb.py"
MONTH = "2019-10"
ETL_ASSETS = ["raw_events", "clean_events", "event_quarantine", "user_features_rfm"]
CHAIN_ASSETS = ["pca_embedding", "kmeans_model", "cluster_profiles"]
USERS_PER_EVENT = 0.06  # the generator's population for 10.3 M events was 600 k (531 k active)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_measured(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``command``; its wall time, exit code, stdout, peak tree RSS and the load around it."""
    load_before = load_average()
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    with TreePeakMemory(process.pid) as memory:
        stdout, stderr = process.communicate()
    return {
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_gib": round(memory.peak / 2**30, 2),
        "peak_rss_gib_by_process": memory.peak_parts,
        "cpu_seconds": round(memory.cpu_seconds, 1),
        "load_before": load_before,
        "load_after": load_average(),
        "returncode": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


# ---------------------------------------------------------------------------------------------
# The pipeline side (runs in a child process: ``python -m benchmarks.etl --child ...``)
# ---------------------------------------------------------------------------------------------
def monthly_job(work: Path):
    """The code location's monthly job on ``work``'s landing zone and warehouse (Spark settings
    from ``AMAZING_SPARK_CONF``), as the benchmarks run it."""
    from amazing_assets.definitions import build_definitions
    from amazing_assets.lib.settings import load_settings

    settings = load_settings(
        {
            "AMAZING_HOME": str(work / "home"),
            "AMAZING_LANDING": str(work / "landing"),
            "AMAZING_WAREHOUSE": str(work / "warehouse"),
            "AMAZING_SPARK_CONF": os.environ.get("AMAZING_SPARK_CONF", ""),
        }
    )
    return build_definitions(settings).resolve_job_def("monthly_segments")


def run_pipeline_child(work: Path, assets: list[str]) -> dict:
    """Materialise ``assets`` for the month in this process; step seconds and stored counts."""
    import dagster as dg

    job = monthly_job(work)
    result = job.execute_in_process(
        partition_key=f"{MONTH}-01",
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(a) for a in assets],
    )
    if not result.success:
        raise SystemExit("the pipeline run failed")
    from benchmarks.run import step_durations  # imports Dagster: only in the pipeline's child

    steps = {step: round(seconds, 2) for step, seconds in step_durations(result).items()}
    return {"steps": steps, "counts": pipeline_counts(work / "warehouse")}


def pipeline_counts(warehouse: Path) -> dict:
    """Rows in, kept, dropped by reason and customers, read back from the stored tables."""
    from amazing_assets.lib.delta_tables import month_row_counts, read_months
    from amazing_assets.lib.storage import Location
    from amazing_assets.lib.tables import table_location

    root = Location.parse(str(warehouse))
    table = lambda name: table_location(root, name)  # noqa: E731
    reasons = read_months(table("event_quarantine"), [MONTH], columns=["reason"])
    return {
        "rows_in": month_row_counts(table("raw_events"))[MONTH],
        "kept": month_row_counts(table("clean_events"))[MONTH],
        "dropped": dict(sorted(Counter(reasons.column("reason").to_pylist()).items())),
        "customers": month_row_counts(table("user_features_rfm"))[MONTH],
    }


# ---------------------------------------------------------------------------------------------
# The reference side
# ---------------------------------------------------------------------------------------------
STORED_TABLES = ["raw_events", "clean_events", "user_features_rfm"]


def live_files(warehouse: Path, name: str):
    """The add actions (one row per live file) of table ``name``, or None without the table."""
    import pyarrow as pa

    from amazing_assets.lib.delta_tables import open_table, table_exists
    from amazing_assets.lib.storage import Location
    from amazing_assets.lib.tables import table_location

    location = table_location(Location.parse(str(warehouse)), name)
    if not table_exists(location):
        return None
    return pa.table(open_table(location).get_add_actions(flatten=True))


def stored_files(warehouse: Path) -> dict[str, dict[str, float]]:
    """Live files of the month's tables (object stores pay per file: listing, Delta log
    replay, one request each): count, mean rows and mean MB per file."""
    out: dict[str, dict[str, float]] = {}
    for name in STORED_TABLES:
        actions = live_files(warehouse, name)
        if actions is None:
            continue
        files = max(actions.num_rows, 1)
        out[name] = {
            "files": actions.num_rows,
            "mean_rows": round(sum(actions.column("num_records").to_pylist()) / files),
            "mean_mb": round(sum(actions.column("size_bytes").to_pylist()) / files / 1e6, 1),
        }
    return out


def parse_reference(stdout: str) -> dict:
    """The TIMING and RESULT lines of ``same_work_duckdb.py``."""
    timing = dict(re.findall(r"(\w+)=([\d.]+)s", _line(stdout, "TIMING")))
    result = _line(stdout, "RESULT")
    dropped = re.search(r"dropped=(\{.*?\})", result).group(1)
    numbers = dict(re.findall(r"(\w+)=(\d+)", result.replace(dropped, "")))
    return {
        "seconds": {k: float(v) for k, v in timing.items()},
        "counts": {
            "rows_in": int(numbers["rows_in"]) + int(numbers["rejected_lines"]),
            "kept": int(numbers["kept"]),
            "dropped": dict(sorted(json.loads(dropped.replace("'", '"')).items())),
            "customers": int(numbers["customers"]),
            "rejected_lines": int(numbers["rejected_lines"]),
        },
    }


def _line(stdout: str, tag: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(tag))


def count_differences(pipeline: dict, reference: dict) -> list[str]:
    """What differs between the two sides' counts (empty: the same work was done)."""
    return [
        f"{key}: pipeline {pipeline[key]} vs reference {reference[key]}"
        for key in ("rows_in", "kept", "dropped", "customers")
        if pipeline[key] != reference[key]
    ]


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
ETL_STEPS = {"raw": "raw_events", "clean": "clean_events", "features": "user_features_rfm"}


def markdown_report(report: dict) -> str:
    pipeline, reference = report["pipeline"], report.get("reference")
    lines = [
        f"# ETL benchmark: {report['input']['rows']:,} events, "
        f"{report['input']['csv_bytes'] / 1e9:.2f} GB, {pipeline['counts']['customers']:,} "
        "customers",
        "",
        f"Machine: {report['machine']['cpus']} cores, {report['machine']['memory_gib']} GiB. "
        f"Generation: {report['generator']['seconds']} s.",
        "",
        "| side | step | seconds | rows/s |",
        "|---|---|---|---|",
    ]
    for step, row in pipeline["assets"].items():
        lines.append(f"| pipeline | {step} | {row['seconds']} | {row['rows_per_second'] or ''} |")
    lines.append(f"| pipeline | start-up and between steps | {pipeline['overhead_seconds']} | |")
    lines.append(
        f"| pipeline | **process wall (ETL {pipeline['etl_seconds']} s)** | "
        f"**{pipeline['wall_seconds']}** | {pipeline['rows_per_second']:,} |"
    )
    if reference:
        for step, seconds in reference["seconds"].items():
            lines.append(f"| DuckDB | {step} | {seconds} | |")
        lines.append(
            f"| DuckDB | **process wall** | **{reference['wall_seconds']}** | "
            f"{reference['rows_per_second']:,} |"
        )
    lines += [
        "",
        "| side | peak RSS (process tree) | at the peak, by process | CPU seconds (tree) "
        "| load avg before → after |",
        "|---|---|---|---|---|",
    ]
    for name, side in (("pipeline", pipeline), ("DuckDB", reference)):
        if side:
            parts = ", ".join(
                f"{k} {v} GiB" for k, v in side.get("peak_rss_gib_by_process", {}).items()
            )
            lines.append(
                f"| {name} | {side['peak_rss_gib']} GiB | {parts} | {side['cpu_seconds']} | "
                f"{side['load_before']} → {side['load_after']} |"
            )
    if reference:
        lines += [
            "",
            f"**Ratio pipeline / DuckDB (process wall): {report['ratio']}** "
            f"(CPU seconds: {report['cpu_ratio']}); "
            f"counts equal: {not report['count_differences']}.",
        ]
    if report.get("files"):
        lines += ["", "| table | files | mean rows per file | mean MB per file |"]
        lines += ["|---|---|---|---|"]
        lines += [
            f"| {name} | {f['files']} | {f['mean_rows']:,} | {f['mean_mb']} |"
            for name, f in report["files"].items()
        ]
    lines += ["", f"Counts: `{json.dumps(pipeline['counts'])}`", ""]
    return "\n".join(lines)


def pipeline_section(measured: dict, child: dict, rows: int) -> dict:
    steps = child["steps"]
    rows_in = {
        "raw_events": child["counts"]["rows_in"],
        "clean_events": child["counts"]["rows_in"],
        "user_features_rfm": child["counts"]["kept"],
    }
    etl = sum(s for k, s in steps.items() if k in ("raw_events", "clean_events", *ETL_ASSETS))
    return {
        "wall_seconds": measured["wall_seconds"],
        "etl_seconds": round(etl, 1),
        "overhead_seconds": round(measured["wall_seconds"] - sum(steps.values()), 1),
        "rows_per_second": round(rows / measured["wall_seconds"]),
        "peak_rss_gib": measured["peak_rss_gib"],
        "peak_rss_gib_by_process": measured["peak_rss_gib_by_process"],
        "cpu_seconds": measured["cpu_seconds"],
        "load_before": measured["load_before"],
        "load_after": measured["load_after"],
        "assets": {
            step: {
                "seconds": seconds,
                "rows_per_second": round(rows_in[step] / seconds) if step in rows_in else None,
            }
            for step, seconds in steps.items()
        },
        "counts": child["counts"],
    }


def generate(work: Path, events: int, users: int, seed: int) -> tuple[dict, float]:
    from amazing_assets.datagen.generator import GenerationSpec, generate_month

    started = time.perf_counter()
    generated = generate_month(
        GenerationSpec(month=MONTH, events=events, users=users, seed=seed), work / "landing"
    )
    seconds = time.perf_counter() - started
    info = {
        "events_requested": events,
        "rows": generated.rows,
        "users": users,
        "active_customers": generated.active_users,
        "csv_bytes": generated.path.stat().st_size,
        "csv": str(generated.path),
    }
    return info, seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=None, help="default: 6 %% of events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work" / "etl")
    parser.add_argument("--name", default=None, help="results file name (default etl-N-events)")
    parser.add_argument(
        "--through", choices=["user_features_rfm", "cluster_profiles"], default="user_features_rfm"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the DuckDB side")
    parser.add_argument(
        "--reuse-input", action="store_true", help="keep an already generated month in --work"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    assets = ETL_ASSETS + (CHAIN_ASSETS if args.through == "cluster_profiles" else [])
    if args.child:
        print("CHILD " + json.dumps(run_pipeline_child(args.work, assets)))
        return 0
    users = args.users or max(1000, int(args.events * USERS_PER_EVENT))
    info_file = args.work / "input.json"
    if args.reuse_input and info_file.exists():
        info, generation = json.loads(info_file.read_text()), None
    else:
        import shutil

        shutil.rmtree(args.work, ignore_errors=True)
        info, generation = generate(args.work, args.events, users, args.seed)
        info_file.write_text(json.dumps(info))
    import shutil

    shutil.rmtree(args.work / "warehouse", ignore_errors=True)
    env = {**os.environ}
    env.setdefault("AMAZING_PSEUDONYMIZATION_KEY", "benchmark-key-not-a-secret-0123456789")
    command = [sys.executable, "-m", "benchmarks.etl", "--child", "--work", str(args.work)]
    command += ["--through", args.through]
    measured = run_measured(command, env)
    (args.work / "pipeline-stderr.log").write_text(measured["stderr"])  # whole, for a post-mortem
    if measured["returncode"] != 0:
        sys.stderr.write(measured["stderr"][-5000:])
        raise SystemExit(f"the pipeline run failed (log: {args.work / 'pipeline-stderr.log'})")
    child = json.loads(_line(measured["stdout"], "CHILD ")[len("CHILD ") :])
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
        },
        "input": info,
        "generator": {"seconds": round(generation, 1) if generation else None},
        "pipeline": pipeline_section(measured, child, info["rows"]),
        "files": stored_files(args.work / "warehouse"),
    }
    if not args.no_reference:
        out = args.work / "duckdb"
        measured = run_measured(
            [sys.executable, str(REFERENCE), info["csv"], str(out), MONTH, "2"], env
        )
        if measured["returncode"] != 0:
            sys.stderr.write(measured["stderr"][-5000:])
            raise SystemExit("the DuckDB reference failed")
        reference = parse_reference(measured["stdout"])
        shutil.rmtree(out, ignore_errors=True)
        report["reference"] = {
            **{k: v for k, v in measured.items() if k not in ("stdout", "stderr", "returncode")},
            "rows_per_second": round(info["rows"] / measured["wall_seconds"]),
            **reference,
        }
        report["ratio"] = round(
            report["pipeline"]["wall_seconds"] / report["reference"]["wall_seconds"], 2
        )
        report["cpu_ratio"] = round(
            report["pipeline"]["cpu_seconds"] / report["reference"]["cpu_seconds"], 2
        )
        report["count_differences"] = count_differences(
            report["pipeline"]["counts"], reference["counts"]
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.name or f"etl-{args.events}-events"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown_report(report))
    print(markdown_report(report))
    if report.get("count_differences"):
        raise SystemExit("counts differ: " + "; ".join(report["count_differences"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
