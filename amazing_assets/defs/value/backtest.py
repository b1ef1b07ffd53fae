"""Back-test, not faith: fit on the months up to M, predict M+1..M+3, compare with what happened.

Reported as calibration by decile of predicted purchases and the lift of the top 10 % by
predicted value against a random 10 %. :func:`month_value` is what ``customer_value`` computes
for one as-of month: the predictions, and the back-test of the same procedure three months
earlier when the history allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from amazing_assets.defs.value.models import (
    FIT_SAMPLE,
    VALUE_COLUMNS,
    ValueModel,
    expected_repeat_ratio,
    expected_spend,
    fit_value_model,
    last_day,
    predict_purchases,
    predict_value,
    rfm_summary,
)
from amazing_assets.defs.value.value_models import CANDIDATES, DEFAULT_MODEL

if TYPE_CHECKING:  # value_selection imports this module
    from amazing_assets.defs.value.value_selection import Selection

TOP_SHARE = 0.1
DECILES = 10


@dataclass
class BackTest:
    """What a model fitted up to ``calibration_end`` predicted for the holdout, and what was."""

    calibration_end: str  # month
    holdout_months: list[str]
    customers: int
    deciles: pd.DataFrame
    top_lift: float  # share of holdout revenue in the top 10 % by predicted value / 10 %
    top_purchase_lift: float  # the same for purchases, ranked by predicted purchases
    predicted_purchases: float
    actual_purchases: float
    predicted_revenue: float
    actual_revenue: float
    parameters: dict[str, float] = field(default_factory=dict)
    model: str = DEFAULT_MODEL
    # Per holdout month: predicted and actual repeat purchases, and both cumulated (tracking).
    tracking: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Share of holdout revenue (purchases) of the top 10 % by predicted value (purchases).
    top_revenue_share: float = float("nan")
    top_purchase_share: float = float("nan")

    @property
    def calibration_error(self) -> float:
        """Σ over deciles of |predicted − actual| purchases over Σ actual: 0 is perfect; it is
        at least the aggregate error |predicted − actual| / actual, and also counts purchases
        put on the wrong customers (the score that chooses the model)."""
        d = self.deciles
        gap = float(np.sum(np.abs(d["predicted"] - d["actual"]) * d["customers"]))
        return gap / self.actual_purchases if self.actual_purchases else float("nan")

    @property
    def purchase_ratio(self) -> float:
        """Predicted over actual holdout purchases (1 is perfect)."""
        return self.predicted_purchases / self.actual_purchases if self.actual_purchases else np.nan

    def summary(self) -> dict[str, object]:
        return {
            "model": self.model,
            "calibration_end": self.calibration_end,
            "holdout_months": self.holdout_months,
            "customers": self.customers,
            "predicted_purchases": round(self.predicted_purchases, 1),
            "actual_purchases": round(self.actual_purchases, 1),
            "purchase_ratio": round(float(self.purchase_ratio), 3),
            "predicted_revenue": round(self.predicted_revenue, 2),
            "actual_revenue": round(self.actual_revenue, 2),
            "top10_value_lift": round(self.top_lift, 2),
            "top10_purchase_lift": round(self.top_purchase_lift, 2),
            "calibration_error": round(self.calibration_error, 3),
        }


def require_finite(model: str, month: str, *predictions: np.ndarray) -> None:
    """A fit whose predictions are not all finite failed: NaN must not score (a decile table
    of NaN predictions has no error and would win the selection) nor reach a customer."""
    bad = sum(int((~np.isfinite(p)).sum()) for p in predictions)
    if bad:
        raise FloatingPointError(f"{model} fitted up to {month}: {bad} non-finite predictions")


def calibration_by_decile(predicted: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """Customers in deciles of predicted purchases (10 = highest): mean predicted vs actual.

    Deciles by rank, so ties (many one-time buyers share a prediction) still make ten groups.
    """
    rank = pd.Series(predicted).rank(method="first").to_numpy()
    decile = np.ceil(rank * DECILES / len(rank)).astype(int)
    frame = pd.DataFrame({"decile": decile, "predicted": predicted, "actual": actual})
    out = frame.groupby("decile").agg(
        customers=("predicted", "size"),
        predicted=("predicted", "mean"),
        actual=("actual", "mean"),
    )
    out["ratio"] = out["predicted"] / out["actual"].where(out["actual"] > 0)
    return out.reset_index()


def top_share(score: np.ndarray, outcome: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of the outcome captured by the top ``share`` of customers by score ("of the 10 %
    we rank highest, 57 % of the next three months' revenue"); a random pick gets ``share``."""
    total = float(np.sum(outcome))
    if total <= 0 or len(score) == 0:
        return float("nan")
    top = max(1, round(len(score) * share))
    chosen = np.argsort(-score, kind="stable")[:top]
    return float(np.sum(outcome[chosen]) / total)


def top_lift(score: np.ndarray, outcome: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of the outcome captured by the top ``share`` by score, over ``share`` (random = 1)."""
    if len(score) == 0:
        return float("nan")
    top = max(1, round(len(score) * share))
    return top_share(score, outcome, share) / (top / len(score))


def back_test(
    days: pd.DataFrame,
    calibration_end: str,
    holdout_months: int = 3,
    sample: int = FIT_SAMPLE,
    seed: int = 0,
    model: str = DEFAULT_MODEL,
) -> BackTest:
    """Fit ``model`` on purchase days up to the end of ``calibration_end``, predict the next
    months, compare with what happened.

    ``days`` is the per-customer purchase-days table (``user_key``, ``day``, ``value``), not raw
    events. Customers are those who bought by ``calibration_end``; newcomers of the holdout are
    not predictable by a model of existing customers and are left out, as in the literature.
    """
    end = last_day(calibration_end)
    months = [str(pd.Period(calibration_end, "M") + k) for k in range(1, holdout_months + 1)]
    holdout_end = last_day(months[-1])
    summary = rfm_summary(days, end)
    fitted = fit_value_model(summary, sample=sample, seed=seed, model=model)
    # Purchases and spend only: the churn horizons are not back-tested (and cost time).
    expected_purchases = predict_purchases(fitted, summary, holdout_end - end)
    expected_revenue = expected_purchases * expected_spend(fitted, summary)
    require_finite(model, calibration_end, expected_purchases, expected_revenue)
    later = days[(days["day"] > end) & (days["day"] <= holdout_end)]
    actual = later.groupby("user_key").agg(purchases=("day", "size"), revenue=("value", "sum"))
    actual = actual.reindex(summary["user_key"]).fillna(0.0)
    actual_purchases = actual["purchases"].to_numpy(dtype=float)
    actual_revenue = actual["revenue"].to_numpy(dtype=float)
    return BackTest(
        calibration_end=calibration_end,
        holdout_months=months,
        customers=len(summary),
        deciles=calibration_by_decile(expected_purchases, actual_purchases),
        top_lift=top_lift(expected_revenue, actual_revenue),
        top_purchase_lift=top_lift(expected_purchases, actual_purchases),
        top_revenue_share=top_share(expected_revenue, actual_revenue),
        top_purchase_share=top_share(expected_purchases, actual_purchases),
        predicted_purchases=float(expected_purchases.sum()),
        actual_purchases=float(actual_purchases.sum()),
        predicted_revenue=float(expected_revenue.sum()),
        actual_revenue=float(actual_revenue.sum()),
        parameters=fitted.parameters,
        model=model,
        tracking=tracking(fitted, summary, later, end, months, float(expected_purchases.sum())),
    )


def tracking(
    fitted, summary: pd.DataFrame, later: pd.DataFrame, end: int, months: list[str], total: float
) -> pd.DataFrame:
    """Per holdout month: repeat purchases predicted (cumulative forecast at the month's end,
    differenced) and actual, and both cumulated: the "tracking plot" of the literature."""
    ends = [last_day(m) for m in months]
    cumulative = np.array([predict_purchases(fitted, summary, e - end).sum() for e in ends[:-1]])
    cumulative = np.append(cumulative, total)
    month_of = pd.cut(later["day"], [end, *ends], labels=months, right=True)
    actual = later.groupby(month_of, observed=False).size().reindex(months, fill_value=0)
    out = pd.DataFrame(
        {
            "month": months,
            "predicted": np.diff(cumulative, prepend=0.0),
            "actual": actual.to_numpy(dtype=float),
        }
    )
    out["predicted_cumulative"] = cumulative
    out["actual_cumulative"] = out["actual"].cumsum()
    return out


def deciles_markdown(test: BackTest) -> str:
    """The back-test's decile table as Markdown (for metadata and the closing note)."""
    lines = [
        "| decile | customers | predicted purchases | actual purchases | predicted / actual |",
        "|---|---|---|---|---|",
    ]
    for row in test.deciles.itertuples():
        ratio = "" if np.isnan(row.ratio) else f"{row.ratio:.2f}"
        cells = [str(row.decile), f"{row.customers:,}", f"{row.predicted:.3f}"]
        lines.append("| " + " | ".join([*cells, f"{row.actual:.3f}", ratio]) + " |")
    return "\n".join(lines)


# --- one as-of month, as the asset computes it -------------------------------------------------


@dataclass
class MonthValue:
    """``customer_value`` of one as-of month: predictions, the fit, and how far to trust it."""

    month: str
    predictions: pd.DataFrame  # user_key + VALUE_COLUMNS
    parameters: dict[str, float]
    fitted_on: int
    repeat_buyers: int
    backend: str
    repeat_ratio: float  # in-sample: expected / observed repeat purchases
    back_test: BackTest | None  # the chosen model at the latest origin; None without one
    model: str = DEFAULT_MODEL
    selection: Selection | None = None


def month_value(
    days: pd.DataFrame, month: str, *, sample: int = FIT_SAMPLE, holdout_months: int = 3
) -> MonthValue:
    """Choose the purchase model by a rolling-origin back-test before ``month``
    (``value_selection``), fit it on every purchase day up to the end of ``month`` and predict
    the next 90 days for every customer who bought by then.

    ``days`` is the per-customer purchase-days table (``user_key``, ``day``, ``value``)."""
    from amazing_assets.defs.value.value_selection import select_model

    selection = select_model(days, month, holdout_months=holdout_months)
    summary = rfm_summary(days, last_day(month))
    model, predictions = fit_first_finite(summary, month, sample, selection)
    return MonthValue(
        month=month,
        predictions=predictions,
        parameters=model.parameters,
        fitted_on=model.fitted_on,
        repeat_buyers=model.repeat_buyers,
        backend=model.backend,
        repeat_ratio=expected_repeat_ratio(model, summary),
        back_test=selection.tests.get(selection.chosen),
        model=selection.chosen,
        selection=selection,
    )


def fit_first_finite(
    summary: pd.DataFrame, month: str, sample: int, selection: Selection
) -> tuple[ValueModel, pd.DataFrame]:
    """Fit the chosen model and predict; should its predictions not be finite, the next
    candidate in order (the selection's record says which, and why). All failing is an error
    that names the month, not NaN in a customer's value."""
    failures: list[str] = []
    for name in (selection.chosen, *(c for c in CANDIDATES if c != selection.chosen)):
        model = fit_value_model(summary, sample=sample, model=name)
        predictions = predict_value(model, summary)[["user_key", *VALUE_COLUMNS]]
        try:
            require_finite(name, month, *(predictions[c].to_numpy() for c in VALUE_COLUMNS))
        except FloatingPointError as error:
            failures.append(str(error))
            continue
        if failures:
            selection.chosen = name
            selection.reason += f"; fell back to {name}: {'; '.join(failures)}"
        return model, predictions
    raise FloatingPointError(f"no purchase model gives finite predictions: {'; '.join(failures)}")
