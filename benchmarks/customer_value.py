"""``customer_value``'s modelling on N customers: summary, MAP fits, predictions, back-test.

Purchase histories come from the planted generator (``amazing_assets_tests/support/purchases.py``):
N buyers arriving over 12 months. Timed is what the asset does on the driver once Spark has
reduced the clean events to purchase days (one row per customer and day with a purchase): the
RFM-T summary, the modified BG/NBD and Gamma-Gamma MAP fits (on a sample), the 90-day
predictions for everyone, the in-sample calibration and the back-test (a second fit, 3 months
earlier).

    python -m benchmarks.customer_value --customers 1000000
    PYTENSOR_FLAGS=cxx= python -m benchmarks.customer_value   # as in the image: no C++ compiler
    python -m benchmarks.customer_value --cdnow /work/shared/data/cdnow/CDNOW_sample.txt

``--cdnow``: the real reference histories instead (CDNOW 1/10 sample). The model is chosen by
the rolling-origin back-test inside the calibration period (January-September 1997), fitted on
it and asked for October 1997-June 1998, the literature's split; every candidate's own holdout
figures are reported beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from amazing_assets.defs.value.backtest import back_test, deciles_markdown, month_value
from amazing_assets.defs.value.models import FIT_SAMPLE, purchase_days
from amazing_assets.defs.value.value_models import MODELS
from amazing_assets.defs.value.value_selection import select_model, selection_record
from amazing_assets_tests.support.purchases import simulate_purchases
from benchmarks.memory import PeakMemory
from benchmarks.run import RESULTS

AS_OF = "2019-12"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=FIT_SAMPLE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cdnow", type=Path, help="CDNOW_sample.txt: the real-history run")
    args = parser.parse_args()
    if args.cdnow:
        cdnow(args.cdnow)
        return
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
        "model_selection": selection_record(result.selection) if result.selection else None,
    }
    RESULTS.mkdir(exist_ok=True)
    name = f"customer-value-{args.customers}-customers-seed{args.seed}"
    name += "" if result.backend == "C" else f"-{result.backend.lower()}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if result.back_test:
        print(deciles_markdown(result.back_test))


def cdnow(path: Path) -> None:
    """Calibration January-September 1997, holdout October 1997-June 1998 (39 + 39 weeks)."""
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=["customer", "sample", "date", "cds", "value"]
    )
    times = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC")
    days = purchase_days(
        pd.DataFrame({"customer": raw["customer"], "time": times, **raw[["value"]]})
    )
    started = time.perf_counter()
    selection = select_model(days, "1997-09", holdout_months=3)
    chosen = back_test(days, "1997-09", holdout_months=9, model=selection.chosen)
    seconds = time.perf_counter() - started
    candidates = {}
    for name in MODELS:
        test = chosen if name == selection.chosen else back_test(days, "1997-09", 9, model=name)
        candidates[name] = {
            "purchase_ratio": round(float(test.purchase_ratio), 3),
            "revenue_ratio": round(test.predicted_revenue / test.actual_revenue, 3),
            "calibration_error": round(test.calibration_error, 3),
            "parameters": {k: round(v, 4) for k, v in test.parameters.items()},
        }
    report = {
        "data": "CDNOW 1/10 sample, calibration 1997-01..09, holdout 1997-10..1998-06",
        "selection_and_holdout_s": round(seconds, 1),
        "model_selection": selection_record(selection),
        "chosen": selection.chosen,
        "holdout": chosen.summary(),
        "revenue_ratio": round(chosen.predicted_revenue / chosen.actual_revenue, 3),
        "every_candidate_on_the_holdout": candidates,
        "tracking": chosen.tracking.round(1).to_dict(orient="records"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "customer-value-cdnow.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(deciles_markdown(chosen))


if __name__ == "__main__":
    main()
