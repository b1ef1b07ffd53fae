"""``customer_value``'s modelling on N customers: summary, MAP fits, predictions, back-test.

Purchase histories come from the planted generator (``datagen/purchases.py``): N buyers arriving
over 12 months. Timed is what the asset does on the driver once Spark has reduced the clean
events to purchase days (one row per customer and day with a purchase): the RFM-T summary, the
modified BG/NBD and Gamma-Gamma MAP fits (on a sample), the 90-day predictions for everyone,
the in-sample calibration and the back-test (a second fit, 3 months earlier).

    python -m benchmarks.customer_value --customers 1000000
    PYTENSOR_FLAGS=cxx= python -m benchmarks.customer_value   # as in the image: no C++ compiler
"""

from __future__ import annotations

import argparse
import json
import time

from amazing_assets.defs.value.backtest import deciles_markdown, month_value
from amazing_assets.defs.value.models import FIT_SAMPLE, purchase_days
from amazing_assets_tests.support.purchases import simulate_purchases
from benchmarks.memory import PeakMemory
from benchmarks.run import RESULTS

AS_OF = "2019-12"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=FIT_SAMPLE)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    history = simulate_purchases(args.customers, "2019-01", 12, seed=args.seed)
    days = purchase_days(history.transactions)
    prepared = time.perf_counter() - started
    del history
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = month_value(days, AS_OF, sample=args.sample)
        seconds = time.perf_counter() - started
    report = {
        "customers_with_purchases": len(result.predictions),
        "purchase_days": len(days),
        "fit_sample": args.sample,
        "fit_backend": result.backend,  # C with a C++ compiler, else Numba (the Docker image)
        "generation_and_daily_aggregation_s": round(prepared, 1),
        "customer_value_s": round(seconds, 1),
        "peak_rss_mib": round(memory.peak / 2**20),
        "parameters": {k: round(v, 4) for k, v in result.parameters.items()},
        "repeat_ratio_in_sample": round(result.repeat_ratio, 3),
        "back_test": result.back_test.summary() if result.back_test else None,
    }
    RESULTS.mkdir(exist_ok=True)
    name = f"customer-value-{args.customers}-customers-seed{args.seed}"
    name += "" if result.backend == "C" else f"-{result.backend.lower()}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if result.back_test:
        print(deciles_markdown(result.back_test))


if __name__ == "__main__":
    main()
