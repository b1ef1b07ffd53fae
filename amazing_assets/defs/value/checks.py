"""Checks on customer_value: a fit that is finite, predictions that make sense, calibration."""

from __future__ import annotations

import math

import dagster as dg
import pandas as pd

from amazing_assets.defs.value.backtest import MonthValue
from amazing_assets.lib.checks import result, spec

VALUE = "customer_value"
# In-sample: repeat purchases the fitted population expects over each buyer's T vs observed.
REPEAT_RATIO_BOUNDS = (0.8, 1.25)
# Back-test: predicted over actual purchases of the three months after the calibration month.
HOLDOUT_RATIO_BOUNDS = (0.67, 1.5)

VALUE_CHECK_SPECS = [
    spec("parameters_finite", VALUE, "every fitted model parameter is finite and positive"),
    spec(
        "predictions_valid",
        VALUE,
        "expected purchases and revenue ≥ 0, P(alive) and P(no purchase in 30/60/90 days) in "
        "[0, 1], nothing missing",
    ),
    spec(
        "calibration_within_bounds",
        VALUE,
        f"expected / observed repeat purchases in {REPEAT_RATIO_BOUNDS} (in sample) and, once "
        f"history allows a back-test, predicted / actual in {HOLDOUT_RATIO_BOUNDS} (warning)",
    ),
]


def _inside(value: float, bounds: tuple[float, float]) -> bool:
    return math.isfinite(value) and bounds[0] <= value <= bounds[1]


def value_results(
    fits: dict[str, MonthValue], skipped: dict[str, str] | None = None
) -> list[dg.AssetCheckResult]:
    """Checks of the modelled months; a month with too little history fails only the
    calibration warning (nothing was predicted, so nothing can be calibrated)."""
    skipped = skipped or {}
    bad_parameters = {
        month: {k: v for k, v in fit.parameters.items() if not (math.isfinite(v) and v > 0)}
        for month, fit in fits.items()
    }
    invalid: dict[str, int] = {}
    for month, fit in fits.items():
        p: pd.DataFrame = fit.predictions
        silent = [c for c in p.columns if c.startswith("p_no_purchase_")]
        numbers = p[
            ["expected_purchases_90d", "expected_revenue_90d", "p_alive", "churn_risk", *silent]
        ]
        wrong = (
            numbers.isna().any(axis=1)
            | (p["expected_purchases_90d"] < 0)
            | (p["expected_revenue_90d"] < 0)
            | ~p["p_alive"].between(0, 1)
            | ~p[silent].apply(lambda c: c.between(0, 1)).all(axis=1)
        )
        invalid[month] = int(wrong.sum())
    repeat = {m: round(f.repeat_ratio, 3) for m, f in fits.items()}
    holdout = {
        m: round(float(f.back_test.purchase_ratio), 3) for m, f in fits.items() if f.back_test
    }
    calibrated = (
        not skipped
        and all(_inside(v, REPEAT_RATIO_BOUNDS) for v in repeat.values())
        and all(_inside(v, HOLDOUT_RATIO_BOUNDS) for v in holdout.values())
    )
    return [
        result(
            VALUE,
            "parameters_finite",
            not any(bad_parameters.values()),
            {
                "parameters": {m: f.parameters for m, f in fits.items()},
                "not_finite_or_positive": bad_parameters,
            },
        ),
        result(VALUE, "predictions_valid", not any(invalid.values()), {"invalid_rows": invalid}),
        result(
            VALUE,
            "calibration_within_bounds",
            calibrated,
            {
                "repeat_ratio_in_sample": repeat,
                "repeat_ratio_bounds": list(REPEAT_RATIO_BOUNDS),
                "holdout_purchase_ratio": holdout,
                "holdout_ratio_bounds": list(HOLDOUT_RATIO_BOUNDS),
                "not_modelled": skipped,
            },
            warn=True,
            description="not modelled: " + "; ".join(f"{m}: {r}" for m, r in skipped.items())
            if skipped
            else None,
        ),
    ]
