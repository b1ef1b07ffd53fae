"""``amazing-datagen``: write synthetic monthly exports into a landing zone.

Example::

    amazing-datagen --month 2019-10 --months 3 --events 1000000 --users 100000 --out landing
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.lib.months import add_months


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="amazing-datagen", description=__doc__.splitlines()[0])
    parser.add_argument("--month", required=True, help="first month, YYYY-MM (e.g. 2019-10)")
    parser.add_argument("--months", type=int, default=1, help="number of consecutive months")
    parser.add_argument("--events", type=int, required=True, help="events per month (approximate)")
    parser.add_argument("--users", type=int, required=True, help="customers in the population")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, required=True, help="landing root; writes OUT/YYYY-MM/events.csv"
    )
    parser.add_argument("--gzip", action="store_true", help="write events.csv.gz")
    parser.add_argument("--no-defects", action="store_true", help="omit the real data's defects")
    args = parser.parse_args(argv)
    if args.events <= 0 or args.users <= 0 or args.months <= 0:
        parser.error("--events, --users and --months must be positive")
    try:
        add_months(args.month, 0)
    except ValueError:
        parser.error(f"--month must look like 2019-10, got {args.month!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for index in range(args.months):
        month = add_months(args.month, index)
        started = time.perf_counter()
        spec = GenerationSpec(
            month=month,
            events=args.events,
            users=args.users,
            seed=args.seed,
            month_index=index,
            defects=not args.no_defects,
        )
        result = generate_month(spec, args.out, gzip_output=args.gzip)
        seconds = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "month": month,
                    "path": str(result.path),
                    "rows": result.rows,
                    "active_users": result.active_users,
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(result.rows / seconds),
                    "planted": result.planted,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
