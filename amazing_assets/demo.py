"""``amazing-demo``: generate a demo landing zone and materialise the pipeline through Dagster.

Runs on the embedded default (local warehouse under ``./.amazing``) with a real local Spark
session, records the runs in a persistent Dagster instance (so ``make ui`` shows them), and prints
per month what went in, what was kept, what was dropped and why, and how many customers have
features.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import dagster as dg

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.lib.delta_tables import month_row_counts, read_months, scan_months
from amazing_assets.lib.months import add_months
from amazing_assets.lib.partitions import partition_key_of
from amazing_assets.lib.run_report import OUTCOME, asset_states, month_report
from amazing_assets.lib.settings import dagster_home, load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location


def ensure_demo_landing(
    landing: Path, first_month: str, months: int, events: int, users: int, seed: int
) -> None:
    for index in range(months):
        month = add_months(first_month, index)
        if any((landing / month).glob("*.csv*")):
            print(f"landing {month}: already present, kept")
            continue
        started = time.perf_counter()
        result = generate_month(
            GenerationSpec(month=month, events=events, users=users, seed=seed, month_index=index),
            landing,
        )
        print(
            f"landing {month}: generated {result.rows:,} rows "
            f"in {time.perf_counter() - started:.1f}s"
        )


# Dagster's console logger prints every event at DEBUG; a person follows progress lines instead
# (the full event log stays in the instance, shown by `make ui`).
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
ROW_METADATA = ("rows", "rows_in", "users", "customers", "segments")


def materialize_months(
    months: list[str],
    instance: dg.DagsterInstance | None = None,
    defs: dg.Definitions | None = None,
    progress: bool = False,
) -> dict[str, dg.ExecuteInProcessResult]:
    """One Dagster run per month, oldest first, as a backfill runs them.

    A rejected month fails its own run and the next months still run (their features report
    the gap); months run in order because a month's features read the earlier months. With
    ``progress``, Dagster's console stays quiet and each asset prints one line as it finishes.
    """
    if defs is None:
        from amazing_assets.definitions import defs as default_defs

        defs = default_defs
    job = defs.resolve_job_def("monthly_segments")
    results = {}
    for month in sorted(months):
        results[month] = job.execute_in_process(
            instance=instance,
            partition_key=partition_key_of(month),
            raise_on_error=False,
            run_config=QUIET_RUN_CONFIG if progress else None,
        )
        if progress:
            print_progress(month, results[month])
    return results


def print_progress(month: str, result: dg.ExecuteInProcessResult) -> None:
    """One line per asset of the month: rows and seconds; then the run's outcome."""
    seconds = {
        e.step_key: e.step_success_data.duration_ms / 1000
        for e in result.all_events
        if e.event_type_value == "STEP_SUCCESS"
    }
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = materialization.metadata
        figure = next(
            (
                f"{k} {metadata[k].value:,}"
                for k in ROW_METADATA
                if k in metadata and isinstance(metadata[k].value, int | float)
            ),
            "",
        )
        print(
            f"  {month}  {materialization.asset_key.to_user_string():<20} {figure:<22} "
            f"{seconds.get(event.step_key, 0):6.1f}s"
        )
    print(f"  {month}  {'done' if result.success else 'FAILED (summary at the end)'}")


def write_event_log(
    results: dict[str, dg.ExecuteInProcessResult], instance: dg.DagsterInstance, path: Path
) -> Path:
    """Every event and log line of the runs, oldest first, in one text file (ids redacted):
    what Dagster's console would have printed, for when a progress line is not enough."""
    from datetime import UTC, datetime

    from amazing_assets.lib.observability.ecs import redact

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for month, result in results.items():
            out.write(f"== {month}: run {result.run_id} ==\n")
            for entry in instance.all_logs(result.run_id):
                when = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%H:%M:%S.%f")[:-3]
                level = logging.getLevelName(entry.level)
                step = entry.step_key or "-"
                kind = entry.dagster_event_type.value if entry.dagster_event_type else "LOG"
                message = redact(entry.message, result.run_id)
                out.write(f"{when} {level:<7} {step:<24} {kind:<22} {message}\n")
    return path


def failure_summary(result: dg.ExecuteInProcessResult) -> str:
    """What a failed run says to fix: the rejection's message, or the first step error."""
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            cause = f" ({data.error.cause.message.strip()})" if data.error.cause else ""
            return f"{event.step_key}: {data.error.message.strip()}{cause}"
    return "the run failed before any step (see the Dagster logs above)"


def summarize(warehouse: Location, months: list[str]) -> list[dict]:
    raw = month_row_counts(table_location(warehouse, "raw_events"))
    clean = month_row_counts(table_location(warehouse, "clean_events"))
    users = month_row_counts(table_location(warehouse, "user_features_rfm"))
    reasons = quarantine_reasons(table_location(warehouse, "event_quarantine"), months)
    profiles = read_months(table_location(warehouse, "cluster_profiles"), months).to_pandas()
    segment_columns = ["name", "size", "share", "revenue_share", "offer", "channel"]
    if not set(segment_columns) <= set(profiles.columns):  # only months not segmented so far
        profiles = profiles.reindex(columns=["month", *segment_columns])
    return [
        {
            "month": m,
            "rows_in": raw.get(m, 0),
            "rows_kept": clean.get(m, 0),
            "dropped_by_reason": reasons.get(m, {}),
            "users_with_features": users.get(m, 0),
            "segments": profiles[profiles["month"] == m]
            .sort_values("size", ascending=False)[segment_columns]
            .to_dict("records"),
        }
        for m in months
    ]


def quarantine_reasons(location: Location, months: list[str]) -> dict[str, dict[str, int]]:
    """Dropped rows per month and reason, streamed (only two small columns are read)."""
    table = scan_months(location, months).to_table(columns=["month", "reason"])
    grouped = table.group_by(["month", "reason"]).aggregate([("reason", "count")])
    out: dict[str, dict[str, int]] = {}
    for row in grouped.to_pylist():
        out.setdefault(row["month"], {})[row["reason"]] = row["reason_count"]
    return {m: dict(sorted(r.items())) for m, r in out.items()}


def print_summary(rows: list[dict]) -> None:
    for row in rows:
        dropped = sum(row["dropped_by_reason"].values())
        print(f"\n== {row['month']} ==")
        print(f"  rows in              {row['rows_in']:>12,}")
        print(f"  rows kept            {row['rows_kept']:>12,}")
        print(f"  rows dropped         {dropped:>12,}")
        for reason, n in row["dropped_by_reason"].items():
            print(f"    {reason:<20} {n:>10,}")
        balanced = row["rows_in"] == row["rows_kept"] + dropped
        print(f"  accounting           {'balanced' if balanced else 'UNBALANCED'}")
        print(f"  users with features  {row['users_with_features']:>12,}")
        print(f"  segments ({len(row['segments'])}):")
        for seg in row["segments"]:
            print(
                f"    {seg['name']:<17} {seg['size']:>8,} customers {seg['share']:>6.1%}  "
                f"revenue {seg['revenue_share']:>6.1%}  → {seg['offer']} ({seg['channel']})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amazing-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--first-month", default="2019-10")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--events", type=int, default=300_000, help="events per generated month")
    # ~18 events per customer-month: most customers are active every month, as in a loyal base.
    parser.add_argument("--users", type=int, default=16_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    # Dagster's notes on its own preview and beta APIs are for the project's developers (the test
    # suite shows them); a person running the demo reads the progress lines.
    for category in (dg.PreviewWarning, dg.BetaWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)

    settings = load_settings()
    dagster_home(settings)
    months = [add_months(args.first_month, i) for i in range(args.months)]
    warehouse = Location.parse(settings.warehouse_uri, setting="AMAZING_WAREHOUSE")
    landing = Location.parse(settings.landing_uri, setting="AMAZING_LANDING")
    if landing.is_s3:
        print("AMAZING_LANDING is on S3: upload exports there; the demo only generates local data")
    else:
        ensure_demo_landing(
            Path(landing.path), args.first_month, args.months, args.events, args.users, args.seed
        )

    from amazing_assets.definitions import build_definitions  # reads settings at import

    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        results = materialize_months(months, instance, build_definitions(settings), progress=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        log = write_event_log(results, instance, settings.home / "logs" / f"demo-{stamp}.log")
    done = [m for m, r in results.items() if r.success]
    failed = {m: failure_summary(r) for m, r in results.items() if not r.success}
    print(
        f"\n{runs_sentence(results)}, one run each, in "
        f"{time.perf_counter() - started:.1f}s (warehouse: {warehouse.uri})\n"
        f"full event log: {log} (and in the Dagster UI: `make ui`)"
    )
    for month, result in results.items():
        print("\n" + month_report(month, result))
    if done:
        print_summary(summarize(warehouse, done))
    for month, message in failed.items():
        print(f"\n== {month}: FAILED ==\n{message}", file=sys.stderr)
    return 1 if failed else 0


def runs_sentence(results: dict[str, dg.ExecuteInProcessResult]) -> str:
    """ "2 month(s) run: 1 complete, 1 with outcomes (not segmented...), 0 failed; 17 of 20
    assets written" — a failed month's written assets are counted, not hidden."""
    states = {m: asset_states(r) for m, r in results.items()}
    failed = [m for m, r in results.items() if not r.success]
    partial = [m for m in results if m not in failed and any(s.state == OUTCOME for s in states[m])]
    written = sum(s.written for month in states.values() for s in month)
    total = sum(len(month) for month in states.values())
    complete = len(results) - len(failed) - len(partial)
    return (
        f"{len(results)} month(s) run: {complete} complete, {len(partial)} with outcomes "
        f"(not segmented / not modelled), {len(failed)} failed; "
        f"{written} of {total} assets written"
    )


if __name__ == "__main__":
    sys.exit(main())
