"""Predicted customer value and churn risk: the field's standard models, and a back-test.

Purchases follow the **modified BG/NBD** model and order values the **Gamma-Gamma** model, both
fitted by maximum a posteriori with ``pymc-marketing`` (its likelihoods, not ours). Modified
BG/NBD rather than plain BG/NBD: plain BG/NBD lets a customer leave only right after a repeat
purchase, so every one-time buyer has P(alive) = 1, i.e. no churn risk at all for the largest
group of buyers; the modified model allows leaving after the first purchase too.

Conventions are pymc-marketing's (``clv.utils.rfm_summary``, adapted from ``lifetimes``), in
days: purchases are counted per day (two orders on one day are one purchase of their summed
value); ``frequency`` is the number of *repeat* purchase days, ``recency`` the days from the
first to the last purchase day, ``T`` the days from the first purchase day to the end of the
observation, ``monetary_value`` the mean value of the repeat purchase days (0 without repeat).
Only priced purchases count (a price-0 purchase is no revenue, as in the KPIs).

The models are fitted on a sample (:data:`FIT_SAMPLE` customers) and predict for everyone,
vectorised: a MAP fit costs time in proportion to the customers it sees, the predictions do not.

A model is judged by :func:`back_test`: fit on the months up to M, predict M+1..M+3, compare
with what happened (calibration by decile of predicted purchases, lift of the top 10 % by
predicted value against a random 10 %).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # Spark is only needed by the pipeline's side
    from pyspark.sql import DataFrame

HORIZON_DAYS = 90
FIT_SAMPLE = 100_000
TOP_SHARE = 0.1
DECILES = 10
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
PURCHASE_PARAMETERS = ("r", "alpha", "a", "b")
SPEND_PARAMETERS = ("p", "q", "v")

VALUE_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "p_alive",
    "churn_risk",
    "expected_purchases_90d",
    "expected_order_value",
    "expected_revenue_90d",
)
"""Columns of ``customer_value`` after ``user_key`` (and before ``month``)."""


# --- purchase days and the RFM-T summary ------------------------------------------------------


def purchase_days_spark(events: DataFrame) -> DataFrame:
    """Clean events → one row per (``user_key``, ``day``) with a priced purchase: ``value``.

    ``day`` counts days since 1970-01-01 (UTC), so day arithmetic is integer arithmetic. A tiny
    table next to the events (a few rows per buyer): safe to collect.
    """
    from pyspark.sql import functions as F

    purchases = events.where((F.col("event_type") == "purchase") & (F.col("price") > 0))
    day = F.floor(F.unix_timestamp("event_time") / 86_400).cast("int")
    return purchases.groupBy("user_key", day.alias("day")).agg(
        F.round(F.sum("price"), 2).alias("value")
    )


def purchase_days(
    transactions: pd.DataFrame, customer: str = "customer", time: str = "time"
) -> pd.DataFrame:
    """Transactions (customer, UTC time, value) → ``user_key``, ``day``, ``value`` per day."""
    times = pd.to_datetime(transactions[time], utc=True)
    day = ((times - EPOCH) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {"user_key": transactions[customer].to_numpy(), "day": day, "value": transactions["value"]}
    )
    out = frame.groupby(["user_key", "day"], as_index=False, sort=True)["value"].sum()
    out["value"] = out["value"].round(2)
    return out


def day_number(timestamp: str | pd.Timestamp) -> int:
    """Days since 1970-01-01 of a date (UTC)."""
    stamp = pd.Timestamp(timestamp)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int((stamp - EPOCH) // pd.Timedelta(days=1))


def last_day(month: str) -> int:
    """Day number of the last day of ``month`` (``YYYY-MM``): the observation's end."""
    return day_number((pd.Period(month, "M") + 1).start_time) - 1


def first_day(month: str) -> int:
    return day_number(pd.Period(month, "M").start_time)


def rfm_summary(days: pd.DataFrame, observation_end: int) -> pd.DataFrame:
    """Per ``user_key``: frequency, recency, T, monetary_value (pymc-marketing's conventions).

    ``days`` as :func:`purchase_days` returns them; purchase days after ``observation_end`` (a
    day number, inclusive) are ignored. Vectorised: 1 M customers in about a second.
    """
    kept = days[days["day"] <= observation_end].sort_values(["user_key", "day"], kind="stable")
    keys, first_index, counts = np.unique(
        kept["user_key"].to_numpy(), return_index=True, return_counts=True
    )
    day = kept["day"].to_numpy()
    value = kept["value"].to_numpy(dtype=float)
    last_index = first_index + counts - 1
    first = day[first_index]
    total = np.add.reduceat(value, first_index) if len(value) else np.zeros(0)
    frequency = counts - 1
    repeat_total = total - value[first_index]
    monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
    return pd.DataFrame(
        {
            "user_key": keys,
            "frequency": frequency.astype(float),
            "recency": (day[last_index] - first).astype(float),
            "T": (observation_end - first).astype(float),
            "monetary_value": monetary,
        }
    )


# --- fit and predict ---------------------------------------------------------------------------


@dataclass
class ValueModel:
    """Fitted purchase (modified BG/NBD) and spend (Gamma-Gamma) models, with their MAP values."""

    purchases: object
    spend: object
    parameters: dict[str, float] = field(default_factory=dict)
    fitted_on: int = 0
    repeat_buyers: int = 0


def _quiet() -> None:
    """pymc/pytensor log every MAP fit at INFO and warn about the MAP's missing draws."""
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    for name in ("pymc", "pytensor", "pymc_marketing", "pymc_extras"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="pymc.*")
    warnings.filterwarnings("ignore", module="pymc_marketing.*")
    warnings.filterwarnings("ignore", module="arviz.*")


def _model_data(summary: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["frequency"].to_numpy(dtype=float),
            "recency": summary["recency"].to_numpy(dtype=float),
            "T": summary["T"].to_numpy(dtype=float),
            "monetary_value": summary["monetary_value"].to_numpy(dtype=float),
        }
    )


def fit_value_model(summary: pd.DataFrame, sample: int = FIT_SAMPLE, seed: int = 0) -> ValueModel:
    """MAP fits of modified BG/NBD (all buyers) and Gamma-Gamma (repeat buyers) on a sample."""
    _quiet()
    from pymc_marketing import clv

    if len(summary) == 0:
        raise ValueError("no buyer to fit a value model on")
    data = _model_data(summary)
    if len(data) > sample:
        data = data.sample(sample, random_state=seed).reset_index(drop=True)
        data["customer_id"] = np.arange(len(data))
    purchases = clv.ModifiedBetaGeoModel()
    purchases.fit(
        data[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False
    )
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    if len(repeat) < 2:
        raise ValueError("fewer than two repeat buyers: the spend model cannot be fitted")
    spend = clv.GammaGammaModel()
    spend.fit(
        repeat[["customer_id", "frequency", "monetary_value"]], method="map", progressbar=False
    )
    parameters = {
        **{f"purchases_{k}": _scalar(purchases, k) for k in PURCHASE_PARAMETERS},
        **{f"spend_{k}": _scalar(spend, k) for k in SPEND_PARAMETERS},
    }
    return ValueModel(purchases, spend, parameters, len(data), len(repeat))


def _scalar(model, name: str) -> float:
    return float(np.asarray(model.fit_result[name]).squeeze())


def _point(values) -> np.ndarray:
    """A MAP prediction (chain × draw of size 1) as a plain vector."""
    return np.asarray(values.mean(dim=("chain", "draw")), dtype=float)


def predict_value(
    model: ValueModel, summary: pd.DataFrame, horizon_days: float = HORIZON_DAYS
) -> pd.DataFrame:
    """Per customer: P(alive), churn risk, expected purchases, order value and revenue."""
    data = _model_data(summary)
    purchases = _point(model.purchases.expected_purchases(data=data, future_t=horizon_days))
    alive = _point(model.purchases.expected_probability_alive(data=data))
    order_value = _point(model.spend.expected_customer_spend(data=data))
    out = summary.reset_index(drop=True).copy()
    out["p_alive"] = np.clip(alive, 0.0, 1.0)
    out["churn_risk"] = 1.0 - out["p_alive"]
    out["expected_purchases_90d"] = np.maximum(purchases, 0.0)
    out["expected_order_value"] = np.maximum(order_value, 0.0)
    out["expected_revenue_90d"] = out["expected_purchases_90d"] * out["expected_order_value"]
    return out


def expected_repeat_ratio(model: ValueModel, summary: pd.DataFrame) -> float:
    """In-sample calibration: repeat purchases the fitted population expects over each
    customer's observed T, over those observed (1 is perfect; needs no later months)."""
    data = _model_data(summary)
    t = data["T"].to_numpy()
    expected = _point(model.purchases.expected_purchases_new_customer(data=data, t=t))
    observed = float(data["frequency"].sum())
    return float(expected.sum() / observed) if observed > 0 else float("nan")


# --- back-test --------------------------------------------------------------------------------


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

MIN_BUYERS = 20
MIN_REPEAT_BUYERS = 10


def too_little_history(days: pd.DataFrame, month: str) -> str | None:
    """Why the purchases up to ``month`` cannot inform the models, or None when they can.

    Four population parameters need buyers, and the spend model needs repeat buyers (a real
    excerpt of one day has none): such a month gets no prediction rather than a wild one.
    """
    summary = rfm_summary(days, last_day(month))
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if len(summary) < MIN_BUYERS or repeat < MIN_REPEAT_BUYERS:
        return (
            f"{len(summary)} buyers, {repeat} repeat buyers up to {month}: at least "
            f"{MIN_BUYERS} and {MIN_REPEAT_BUYERS} are needed"
        )
    return None


def empty_predictions() -> pd.DataFrame:
    """``customer_value``'s columns with no row (a month without enough history)."""
    return pd.DataFrame({"user_key": pd.Series(dtype="string")}).assign(
        **{c: pd.Series(dtype="float64") for c in VALUE_COLUMNS}
    )


@dataclass
class MonthValue:
    """``customer_value`` of one as-of month: predictions, the fit, and how far to trust it."""

    month: str
    predictions: pd.DataFrame  # user_key + VALUE_COLUMNS
    parameters: dict[str, float]
    fitted_on: int
    repeat_buyers: int
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
        repeat_ratio=expected_repeat_ratio(model, summary),
        back_test=test,
    )


# --- per segment, and the actions that follow from it ------------------------------------------

HIGH_CHURN = 0.5  # a segment's buyers are, on average, more likely gone than still there
SEGMENT_VALUE_COLUMNS: tuple[str, ...] = (
    "modelled_buyers",
    "expected_revenue_90d",
    "expected_revenue_per_customer",
    "expected_revenue_per_buyer",
    "churn_risk",
    "value_priority",
    "value_action",
    "value_action_fr",
)

VALUE_ACTIONS: dict[str, tuple[str, str]] = {  # priority → (English, French)
    "win_back": (
        "Win back now with a personal offer: high churn risk, and their expected value pays for it",
        "Reconquérir maintenant avec une offre personnelle : risque de départ élevé, et leur "
        "valeur attendue la finance",
    ),
    "low_cost_reminder": (
        "Low-cost reminder only, no discount: high churn risk, expected value too low for a paid "
        "win-back",
        "Simple relance à faible coût, sans remise : risque de départ élevé, valeur attendue "
        "trop faible pour une reconquête payante",
    ),
    "protect": (
        "Protect and grow: service and loyalty perks, no discount needed (low churn risk, high "
        "expected value)",
        "Fidéliser : service et avantages, sans remise (risque de départ faible, valeur "
        "attendue élevée)",
    ),
    "nurture": (
        "Follow the segment's plan: low churn risk, expected value below the average buyer's",
        "Suivre le plan du segment : risque de départ faible, valeur attendue sous celle de "
        "l'acheteur moyen",
    ),
    "no_history": (
        "No purchase yet: value not predicted; follow the segment's plan",
        "Pas encore d'achat : valeur non prédite ; suivre le plan du segment",
    ),
}


def segment_value(assignments: pd.DataFrame, value: pd.DataFrame | None) -> pd.DataFrame:
    """Per segment: buyers the model covers, expected 90-day revenue, mean churn risk.

    ``assignments`` has ``user_key`` and ``segment`` for every customer; ``value`` is the month's
    ``customer_value`` (buyers only). A customer who never bought has no prediction: they count
    as 0 € in the segment's expected revenue and not at all in its churn risk, which is the mean
    over the segment's buyers (NaN for a segment without buyers).
    """
    segments = pd.Index(sorted(assignments["segment"].unique()), name="segment")
    if value is None or value.empty:
        out = pd.DataFrame(index=segments)
        out["modelled_buyers"] = 0
        for column in SEGMENT_VALUE_COLUMNS[1:5]:
            out[column] = np.nan
        return out.reset_index()
    joined = assignments[["user_key", "segment"]].merge(
        value[["user_key", "churn_risk", "expected_revenue_90d"]], on="user_key", how="left"
    )
    grouped = joined.groupby("segment")
    out = pd.DataFrame(
        {
            "modelled_buyers": grouped["churn_risk"].count(),
            "expected_revenue_90d": grouped["expected_revenue_90d"].sum(),
            "expected_revenue_per_customer": grouped["expected_revenue_90d"].sum() / grouped.size(),
            "expected_revenue_per_buyer": grouped["expected_revenue_90d"].mean(),
            "churn_risk": grouped["churn_risk"].mean(),
        }
    ).reindex(segments)
    out["modelled_buyers"] = out["modelled_buyers"].fillna(0).astype("int64")
    return out.reset_index()


def value_priority(row: pd.Series, average_buyer_value: float) -> str:
    """What the segment's value and churn risk call for (keys of :data:`VALUE_ACTIONS`).

    "Worth it" = the segment's buyers are expected to bring at least what the month's average
    buyer brings over the next 90 days; "high churn" = mean churn risk ≥ :data:`HIGH_CHURN`.
    """
    if not row["modelled_buyers"] or pd.isna(row["churn_risk"]):
        return "no_history"
    worth = row["expected_revenue_per_buyer"] >= average_buyer_value
    if row["churn_risk"] >= HIGH_CHURN:
        return "win_back" if worth else "low_cost_reminder"
    return "protect" if worth else "nurture"


def with_value_actions(profiles: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """``profiles`` with :data:`SEGMENT_VALUE_COLUMNS` (per-segment value and its action)."""
    out = profiles.drop(columns=[c for c in SEGMENT_VALUE_COLUMNS if c in profiles]).merge(
        segments, on="segment", how="left"
    )
    buyers = out["modelled_buyers"].fillna(0)
    total = float(out["expected_revenue_90d"].fillna(0).sum())
    average = total / float(buyers.sum()) if buyers.sum() > 0 else float("inf")
    out["modelled_buyers"] = buyers.astype("int64")
    out["value_priority"] = [value_priority(row, average) for _, row in out.iterrows()]
    out["value_action"] = out["value_priority"].map(lambda p: VALUE_ACTIONS[p][0])
    out["value_action_fr"] = out["value_priority"].map(lambda p: VALUE_ACTIONS[p][1])
    return out
