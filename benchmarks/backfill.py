"""A backfill of several months, one run per month as Dagster's backfills run it: does month N
cost what month 1 costs?

    python -m benchmarks.backfill --months 7 --events 2000000     # make bench-backfill

Generates ``--months`` consecutive months of ``--events`` events each (the same population, so
purchase histories grow), then materialises the monthly job month after month, oldest first, on
one warehouse and one Dagster instance, in one process (as a run worker would, one after the
other). For every month and asset: wall seconds (Dagster's step duration) and CPU seconds of the
process tree (Python, JVM, workers) during the step; per table and month, the files the month
holds; peak RSS of the tree; the load average before and after. The figure the scale issue asks
for is each asset's cost in the last month against the first (``last/first``): an asset that
reads all history grows with the backfill, one that reads its month and small summaries does
not. Results go to ``benchmarks/results/backfill-<M>x<N>-events.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import threading
import time
from pathlib import Path

import psutil

from benchmarks.etl import live_files, monthly_job
from benchmarks.memory import TreePeakMemory

RESULTS = Path(__file__).parent / "results"
FIRST_MONTH = "2019-10"
TABLES = ["raw_events", "clean_events", "event_quarantine", "user_features_rfm", "purchase_days"]


class CpuTimeline:
    """(wall time, CPU seconds of the process tree) every ``interval`` s, to charge each step
    the CPU spent between its start and its end."""

    def __init__(self, interval: float = 0.2) -> None:
        self.samples: list[tuple[float, float]] = []
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_cpu(self) -> float:
        root = psutil.Process()
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self._tree_cpu()))
            time.sleep(self.interval)

    def __enter__(self) -> CpuTimeline:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds between two wall times (nearest samples; exited children's CPU is lost,
        which makes a step's figure a lower bound when its workers exit inside it)."""

        def at(t: float) -> float:
            return min(self.samples, key=lambda s: abs(s[0] - t))[1] if self.samples else 0.0

        return round(max(at(end) - at(start), 0.0), 1)


def files_per_month(warehouse: Path, months: list[str]) -> dict[str, dict[str, int]]:
    """Live files of each table per month, from the current Delta version's add actions."""
    out: dict[str, dict[str, int]] = {}
    for name in TABLES:
        actions = live_files(warehouse, name)
        if actions is not None:
            column = actions.column("partition.month").to_pylist()
            out[name] = {m: column.count(m) for m in months}
    return out


def run_backfill(work: Path, months: list[str]) -> dict:
    import dagster as dg

    job = monthly_job(work)
    instance = dg.DagsterInstance.ephemeral()
    per_month: dict[str, dict] = {}
    with CpuTimeline() as cpu:
        for month in months:
            started = time.perf_counter()
            result = job.execute_in_process(
                partition_key=f"{month}-01", instance=instance, raise_on_error=False
            )
            if not result.success:
                raise SystemExit(f"the run of {month} failed")
            starts = {
                e.step_key: e.timestamp
                for e in result.all_events
                if e.event_type_value == "STEP_START"
            }
            steps = {}
            for event in result.all_events:
                if event.event_type_value == "STEP_SUCCESS":
                    seconds = event.event_specific_data.duration_ms / 1000
                    steps[event.step_key] = {
                        "seconds": round(seconds, 2),
                        "cpu_seconds": cpu.cpu_between(starts[event.step_key], event.timestamp),
                    }
            per_month[month] = {
                "wall_seconds": round(time.perf_counter() - started, 1),
                "steps": steps,
            }
    return per_month


def report(per_month: dict[str, dict], files: dict, meta: dict) -> tuple[dict, str]:
    months = list(per_month)
    first, last = months[0], months[-1]
    assets = sorted({a for m in per_month.values() for a in m["steps"]})
    growth = {
        a: round(
            per_month[last]["steps"][a]["seconds"] / per_month[first]["steps"][a]["seconds"], 2
        )
        for a in assets
        if per_month[first]["steps"].get(a, {}).get("seconds") and a in per_month[last]["steps"]
    }
    lines = [
        f"# Backfill: {len(months)} months of {meta['events_per_month']:,} events",
        "",
        f"Machine: {meta['cpus']} cores, {meta['memory_gib']} GiB; load average "
        f"{meta['load_before']} → {meta['load_after']}; peak RSS {meta['peak_rss_gib']} GiB.",
        "",
        "| asset | " + " | ".join(months) + f" | {last}/{first} |",
        "|---|" + "---|" * (len(months) + 1),
    ]
    for a in assets:
        cells = [
            f"{step['seconds']} s ({step['cpu_seconds']} cpu)" if step else ""
            for step in (per_month[m]["steps"].get(a) for m in months)
        ]
        lines.append(f"| {a} | " + " | ".join(cells) + f" | {growth.get(a, '')} |")
    lines.append(
        "| **run wall** | "
        + " | ".join(f"{per_month[m]['wall_seconds']} s" for m in months)
        + " | |"
    )
    lines += [
        "",
        "Files per month:",
        "",
        "| table | " + " | ".join(months) + " |",
        "|---|" + "---|" * len(months),
    ]
    for table, counts in files.items():
        lines.append(f"| {table} | " + " | ".join(str(counts[m]) for m in months) + " |")
    data = {
        "meta": meta,
        "per_month": per_month,
        "files_per_month": files,
        "last_over_first": growth,
    }
    return data, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from amazing_assets.datagen.generator import GenerationSpec, generate_month
    from amazing_assets.lib.months import add_months

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--events", type=int, default=300_000, help="events per month")
    parser.add_argument("--users", type=int, default=None, help="default: 6 %% of events")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work" / "backfill")
    args = parser.parse_args(argv)
    os.environ.setdefault("AMAZING_PSEUDONYMIZATION_KEY", "benchmark-key-not-a-secret-0123456789")
    shutil.rmtree(args.work, ignore_errors=True)
    users = args.users or max(1_000, int(args.events * 0.06))
    months = [add_months(FIRST_MONTH, i) for i in range(args.months)]
    for month in months:  # same users and seed: one population whose history grows
        generate_month(
            GenerationSpec(month=month, events=args.events, users=users, seed=args.seed),
            args.work / "landing",
        )
    load_before = [round(x, 2) for x in os.getloadavg()]
    with TreePeakMemory(os.getpid()) as memory:
        per_month = run_backfill(args.work, months)
    meta = {
        "months": months,
        "events_per_month": args.events,
        "users": users,
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_gib": round(memory.peak / 2**30, 2),
    }
    data, markdown = report(per_month, files_per_month(args.work / "warehouse", months), meta)
    name = f"backfill-{args.months}x{args.events}-events"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
