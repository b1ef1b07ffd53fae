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

A model is judged by a back-test (``backtest.py``); segments get their value and the actions it
calls for in ``segment_value.py``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # Spark is only needed by the pipeline's side
    from pyspark.sql import DataFrame

HORIZON_DAYS = 90
FIT_SAMPLE = 100_000
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

    purchases: Any  # pymc_marketing.clv.ModifiedBetaGeoModel (imported lazily: slow import)
    spend: Any  # pymc_marketing.clv.GammaGammaModel
    parameters: dict[str, float] = field(default_factory=dict)
    fitted_on: int = 0
    repeat_buyers: int = 0
    backend: str = "C"  # where pytensor compiled the fit (C or NUMBA)


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


def fit_backend() -> str:
    """Where pytensor compiles the MAP fit's functions: C when a C++ compiler exists, else Numba.

    Without a compiler pytensor falls back to Python implementations: the 100 k-buyer fit took
    401 s instead of 7 s (C, warm cache) or 11-19 s (Numba). The runtime Docker image has no
    compiler; Numba is already a dependency (datashader).
    """
    import pytensor

    return "C" if pytensor.config.cxx else "NUMBA"


def fit_value_model(summary: pd.DataFrame, sample: int = FIT_SAMPLE, seed: int = 0) -> ValueModel:
    """MAP fits of modified BG/NBD (all buyers) and Gamma-Gamma (repeat buyers) on a sample."""
    _quiet()
    import pytensor

    backend = fit_backend()
    with pytensor.config.change_flags(**({"mode": "NUMBA"} if backend == "NUMBA" else {})):
        return _fit(summary, sample, seed, backend)


def _fit(summary: pd.DataFrame, sample: int, seed: int, backend: str) -> ValueModel:
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
    return ValueModel(purchases, spend, parameters, len(data), len(repeat), backend)


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


# --- when the history is too short to model ------------------------------------------------

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
