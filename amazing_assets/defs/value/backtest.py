"""Back-test, not faith: fit on the months up to M, predict M+1..M+3, compare with what happened.

Reported as calibration by decile of predicted purchases and the lift of the top 10 % by
predicted value against a random 10 %. :func:`month_value` is what ``customer_value`` computes
for one as-of month: the predictions, and the back-test of the same procedure three months
earlier when the history allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from amazing_assets.defs.value.models import (
    FIT_SAMPLE,
    VALUE_COLUMNS,
    expected_repeat_ratio,
    fit_value_model,
    last_day,
    predict_value,
    rfm_summary,
)

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

    @property
    def purchase_ratio(self) -> float:
        """Predicted over actual holdout purchases (1 is perfect)."""
        return self.predicted_purchases / self.actual_purchases if self.actual_purchases else np.nan

    def summary(self) -> dict[str, object]:
        return {
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
        }


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


def top_lift(score: np.ndarray, outcome: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of the outcome captured by the top ``share`` by score, over ``share`` (random = 1)."""
    total = float(np.sum(outcome))
    if total <= 0 or len(score) == 0:
        return float("nan")
    top = max(1, round(len(score) * share))
    chosen = np.argsort(-score, kind="stable")[:top]
    return float(np.sum(outcome[chosen]) / total / (top / len(score)))


def back_test(
    days: pd.DataFrame,
    calibration_end: str,
    holdout_months: int = 3,
    sample: int = FIT_SAMPLE,
    seed: int = 0,
) -> BackTest:
    """Fit on purchase days up to the end of ``calibration_end``, predict the next months.

    Customers are those who bought by ``calibration_end``; newcomers of the holdout are not
    predictable by a model of existing customers and are left out, as in the literature.
    """
    end = last_day(calibration_end)
    months = [str(pd.Period(calibration_end, "M") + k) for k in range(1, holdout_months + 1)]
    holdout_end = last_day(months[-1])
    summary = rfm_summary(days, end)
    model = fit_value_model(summary, sample=sample, seed=seed)
    predicted = predict_value(model, summary, horizon_days=holdout_end - end)
    later = days[(days["day"] > end) & (days["day"] <= holdout_end)]
    actual = later.groupby("user_key").agg(purchases=("day", "size"), revenue=("value", "sum"))
    actual = actual.reindex(predicted["user_key"]).fillna(0.0)
    actual_purchases = actual["purchases"].to_numpy(dtype=float)
    actual_revenue = actual["revenue"].to_numpy(dtype=float)
    expected_purchases = predicted["expected_purchases_90d"].to_numpy()
    expected_revenue = predicted["expected_revenue_90d"].to_numpy()
    return BackTest(
        calibration_end=calibration_end,
        holdout_months=months,
        customers=len(predicted),
        deciles=calibration_by_decile(expected_purchases, actual_purchases),
        top_lift=top_lift(expected_revenue, actual_revenue),
        top_purchase_lift=top_lift(expected_purchases, actual_purchases),
        predicted_purchases=float(expected_purchases.sum()),
        actual_purchases=float(actual_purchases.sum()),
        predicted_revenue=float(expected_revenue.sum()),
        actual_revenue=float(actual_revenue.sum()),
        parameters=model.parameters,
    )


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
    back_test: BackTest | None  # None until three months follow a month with purchases


def month_value(
    days: pd.DataFrame, month: str, *, sample: int = FIT_SAMPLE, holdout_months: int = 3
) -> MonthValue:
    """Fit on every purchase day up to the end of ``month``, predict the next 90 days for every
    customer who bought by then, and back-test the same procedure on the last
    ``holdout_months`` when the history holds purchases before them."""
    summary = rfm_summary(days, last_day(month))
    model = fit_value_model(summary, sample=sample)
    predictions = predict_value(model, summary)[["user_key", *VALUE_COLUMNS]]
    calibration_end = str(pd.Period(month, "M") - holdout_months)
    test = None
    if (days["day"] <= last_day(calibration_end)).sum() > 0:
        try:
            test = back_test(days, calibration_end, holdout_months, sample=sample)
        except ValueError:  # too few buyers back then to fit: no back-test, not a failure
            test = None
    return MonthValue(
        month=month,
        predictions=predictions,
        parameters=model.parameters,
        fitted_on=model.fitted_on,
        repeat_buyers=model.repeat_buyers,
        backend=model.backend,
        repeat_ratio=expected_repeat_ratio(model, summary),
        back_test=test,
    )
