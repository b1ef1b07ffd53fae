"""How far to trust a month's value predictions, as tables the app reads (no Dagster, no Spark).

``customer_value`` back-tests its purchase models (``value_selection.py``) and refuses to model
a month below the stated minimums (``models.MIN_BUYERS``, ``models.MIN_REPEAT_BUYERS``). The app
reads only the warehouse, so each as-of month's verdict is stored in two small tables (folder
:data:`FOLDER`):

* :data:`BACKTEST`: one row per month: the :data:`STATUSES` code, the chosen model and why, the
  buyers and repeat buyers against the minimums, the history's length, and, when measured, the
  back-test at the latest origin: predicted / actual purchases, the share of the holdout's
  revenue (and purchases) of the 10 % ranked highest (a random 10 % gets 10 %), the calibration
  error;
* :data:`DECILES`: the same back-test's calibration by decile of predicted purchases.

A month the history cannot judge is ``not_measurable`` and says from which as-of month it can
be (``measurable_from``): the first month meeting the minimums, plus the holdout.
"""

from __future__ import annotations

import pandas as pd

from amazing_assets.defs.value.backtest import TOP_SHARE, MonthValue
from amazing_assets.defs.value.models import (
    MIN_BUYERS,
    MIN_REPEAT_BUYERS,
    first_day,
    history_counts,
    last_day,
    too_little_history,
)

FOLDER = "value_quality"
BACKTEST = "backtest"
DECILES = "deciles"
HOLDOUT_MONTHS = 3

MEASURED = "measured"
NOT_MEASURABLE = "not_measurable"
NOT_TESTED = "not_tested"
NOT_MODELLED = "not_modelled"
STATUSES = (MEASURED, NOT_MEASURABLE, NOT_TESTED, NOT_MODELLED)
"""measured: a back-test judged the model; not_measurable: the history is too short for one
(the default model predicts); not_tested: no candidate could be back-tested (the default
predicts); not_modelled: below the minimums, no prediction at all."""

DECILE_COLUMNS = ("decile", "customers", "predicted", "actual", "ratio")
FIGURES = (
    "calibration_end",
    "holdout_end",
    "backtest_customers",
    "predicted_purchases",
    "actual_purchases",
    "purchase_ratio",
    "predicted_revenue",
    "actual_revenue",
    "top_revenue_share",
    "top_purchase_share",
    "calibration_error",
)


def history_figures(days: pd.DataFrame, month: str, history: list[str]) -> dict[str, object]:
    """Buyers and repeat buyers up to ``month`` against the minimums, and the history's span."""
    buyers, repeat = history_counts(days, month)
    months = [m for m in history if m <= month]
    return {
        "buyers": buyers,
        "repeat_buyers": repeat,
        "min_buyers": MIN_BUYERS,
        "min_repeat_buyers": MIN_REPEAT_BUYERS,
        "history_start": months[0] if months else None,
        "history_months": len(months),
        # From the first day of the first month with events, not the first purchase.
        "history_days": last_day(month) - first_day(months[0]) + 1 if months else 0,
    }


def measurable_from(
    days: pd.DataFrame, month: str, history: list[str], holdout: int = HOLDOUT_MONTHS
) -> str | None:
    """The first as-of month whose back-test is possible: the first month of the history that
    meets the minimums, plus ``holdout`` observed months. None when no month up to ``month``
    meets them yet (then the minimums come first)."""
    for candidate in (m for m in history if m <= month):
        if (days["day"] <= last_day(candidate)).any() and too_little_history(
            days, candidate
        ) is None:
            return str(pd.Period(candidate, "M") + holdout)
    return None


def value_quality(
    month: str,
    days: pd.DataFrame,
    history: list[str],
    fit: MonthValue | None,
    skipped_reason: str | None = None,
) -> dict[str, pd.DataFrame]:
    """The month's two tables (without ``month``: the IO manager adds it). ``fit`` is None for a
    month not modelled (``skipped_reason`` says why)."""
    row: dict[str, object] = {
        **history_figures(days, month, history),
        "holdout_months": HOLDOUT_MONTHS,
        "top_share": TOP_SHARE,
        **dict.fromkeys(FIGURES),
    }
    deciles = empty_deciles()
    if fit is None:
        row |= {"status": NOT_MODELLED, "model": None, "judged": False, "reason": skipped_reason}
        return {BACKTEST: backtest_frame(row), DECILES: deciles}
    selection = fit.selection
    judged = bool(selection is not None and selection.judged)
    test = fit.back_test
    row |= {
        "model": fit.model,
        "judged": judged,
        "reason": selection.reason if selection is not None else "",
    }
    if test is None:
        row["status"] = NOT_TESTED if judged else NOT_MEASURABLE
        if not judged:
            row["measurable_from"] = measurable_from(days, month, history)
        return {BACKTEST: backtest_frame(row), DECILES: deciles}
    row |= {
        "status": MEASURED,
        "calibration_end": test.calibration_end,
        "holdout_end": test.holdout_months[-1],
        "backtest_customers": int(test.customers),
        "predicted_purchases": float(test.predicted_purchases),
        "actual_purchases": float(test.actual_purchases),
        "purchase_ratio": float(test.purchase_ratio),
        "predicted_revenue": float(test.predicted_revenue),
        "actual_revenue": float(test.actual_revenue),
        "top_revenue_share": float(test.top_revenue_share),
        "top_purchase_share": float(test.top_purchase_share),
        "calibration_error": float(test.calibration_error),
    }
    deciles = test.deciles[list(DECILE_COLUMNS)].astype(
        {"decile": "int32", "customers": "int64", "predicted": "float64", "actual": "float64"}
    )
    return {BACKTEST: backtest_frame(row), DECILES: deciles.reset_index(drop=True)}


def backtest_frame(row: dict[str, object]) -> pd.DataFrame:
    """One typed row: text columns as strings, figures as floats (NaN when not measured), so
    months with and without a back-test share one schema."""
    text = {"status", "model", "reason", "history_start", "measurable_from"}
    text |= {"calibration_end", "holdout_end"}
    counts = {"buyers", "repeat_buyers", "min_buyers", "min_repeat_buyers", "history_months"}
    counts |= {"history_days", "holdout_months"}
    frame = pd.DataFrame([{"measurable_from": None, **row}])
    for column in frame.columns:
        if column in text:
            frame[column] = frame[column].astype("string")
        elif column == "judged":
            frame[column] = frame[column].astype(bool)
        elif column in counts:
            frame[column] = frame[column].astype("int64")
        else:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def empty_deciles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "decile": pd.Series(dtype="int32"),
            "customers": pd.Series(dtype="int64"),
            **{c: pd.Series(dtype="float64") for c in ("predicted", "actual", "ratio")},
        }
    )
