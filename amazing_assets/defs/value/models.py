"""Predicted customer value and churn risk: the field's standard models, and a back-test.

Purchases follow one of two "buy till you die" models (BG/NBD, modified BG/NBD; Pareto/NBD on
request: ``value_models.py``), chosen each month by a rolling-origin back-test on the customers' own
history (``value_selection.py``); order values follow the **Gamma-Gamma** model. All are fitted
by maximum a posteriori with near-flat priors (= maximum likelihood wherever the data decide)
with ``pymc-marketing`` (its likelihoods, not ours).

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

from amazing_assets.defs.value.value_models import (
    DEFAULT_MODEL,
    NO_PURCHASE_HORIZONS,
    SPEND_PARAMETERS,
    fit_purchase_model,
    fit_spend_model,
    model_data,
    point,
    scalar,
)

if TYPE_CHECKING:  # Spark is only needed by the pipeline's side
    from pyspark.sql import DataFrame

HORIZON_DAYS = 90
FIT_SAMPLE = 100_000
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")

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
    *(f"p_no_purchase_{days}d" for days in NO_PURCHASE_HORIZONS),
    "expected_purchases_per_buyer_90d",
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
    """A fitted purchase model (one of ``value_models.CANDIDATES``) and Gamma-Gamma for spend."""

    purchases: Any  # value_models.PurchaseModel (pymc-marketing imported lazily: slow import)
    spend: Any  # pymc_marketing.clv.GammaGammaModel
    parameters: dict[str, float] = field(default_factory=dict)
    fitted_on: int = 0
    repeat_buyers: int = 0
    backend: str = "C"  # where pytensor compiled the fit (C or NUMBA)

    @property
    def name(self) -> str:
        """Which purchase model: ``bg_nbd``, ``modified_bg_nbd`` or ``pareto_nbd``."""
        return str(self.purchases.name)


def _quiet() -> None:
    """pymc/pytensor log every MAP fit at INFO and warn about the MAP's missing draws."""
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    for name in ("pymc", "pytensor", "pymc_marketing", "pymc_extras"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="pymc.*")
    warnings.filterwarnings("ignore", module="pymc_marketing.*")
    warnings.filterwarnings("ignore", module="arviz.*")


def fit_backend() -> str:
    """Where pytensor compiles the MAP fit's functions: C when a C++ compiler exists, else Numba.

    Without a compiler pytensor falls back to Python implementations: the 100 k-buyer fit took
    401 s instead of 7 s (C, warm cache) or 11-19 s (Numba). The runtime Docker image has no
    compiler; Numba is already a dependency (datashader).
    """
    import pytensor

    return "C" if pytensor.config.cxx else "NUMBA"


def fit_value_model(
    summary: pd.DataFrame,
    sample: int = FIT_SAMPLE,
    seed: int = 0,
    model: str = DEFAULT_MODEL,
    spend: bool = True,
) -> ValueModel:
    """MAP fits of purchase model ``model`` (all buyers) and Gamma-Gamma (repeat buyers) on a
    sample; ``spend=False`` skips Gamma-Gamma (a model-selection fit needs purchases only)."""
    _quiet()
    import pytensor

    backend = fit_backend()
    with pytensor.config.change_flags(**({"mode": "NUMBA"} if backend == "NUMBA" else {})):
        return _fit(summary, sample, seed, backend, model, spend)


def _fit(
    summary: pd.DataFrame, sample: int, seed: int, backend: str, model: str, spend: bool
) -> ValueModel:
    if len(summary) == 0:
        raise ValueError("no buyer to fit a value model on")
    data = model_data(summary)
    if len(data) > sample:
        data = data.sample(sample, random_state=seed).reset_index(drop=True)
        data["customer_id"] = np.arange(len(data))
    purchases = fit_purchase_model(model, data)
    repeat = int(((data["frequency"] > 0) & (data["monetary_value"] > 0)).sum())
    spend_model = fit_spend_model(data) if spend else None
    parameters = {f"purchases_{k}": v for k, v in purchases.parameters.items()}
    if spend_model is not None:
        parameters |= {f"spend_{k}": scalar(spend_model, k) for k in SPEND_PARAMETERS}
    return ValueModel(purchases, spend_model, parameters, len(data), repeat, backend)


def predict_purchases(
    model: ValueModel, summary: pd.DataFrame, horizon_days: float = HORIZON_DAYS
) -> np.ndarray:
    """Expected purchase days per customer over the next ``horizon_days`` (no spend needed)."""
    return model.purchases.expected_purchases(model_data(summary), horizon_days)


def expected_spend(model: ValueModel, summary: pd.DataFrame) -> np.ndarray:
    """Expected value of a purchase day per customer (Gamma-Gamma)."""
    data = model_data(summary)
    return np.maximum(point(model.spend.expected_customer_spend(data=data)), 0.0)


def predict_value(
    model: ValueModel, summary: pd.DataFrame, horizon_days: float = HORIZON_DAYS
) -> pd.DataFrame:
    """Per customer: P(alive), churn risk, expected purchases, order value and revenue, and
    P(no purchase in the next 30/60/90 days) with the purchases expected of those who buy."""
    data = model_data(summary)
    purchases = model.purchases.expected_purchases(data, horizon_days)
    order_value = expected_spend(model, summary)
    out = summary.reset_index(drop=True).copy()
    out["p_alive"] = model.purchases.p_alive(data)
    out["churn_risk"] = 1.0 - out["p_alive"]
    out["expected_purchases_90d"] = purchases
    out["expected_order_value"] = order_value
    out["expected_revenue_90d"] = out["expected_purchases_90d"] * out["expected_order_value"]
    for days in NO_PURCHASE_HORIZONS:
        out[f"p_no_purchase_{days}d"] = model.purchases.p_no_purchase(data, days)
    buys = 1.0 - out[f"p_no_purchase_{HORIZON_DAYS}d"].to_numpy()
    # E[purchases | at least one] = E[purchases] / P(at least one); 1 is the floor (a buyer buys).
    per_buyer = np.divide(purchases, buys, out=np.ones_like(purchases), where=buys > 1e-9)
    out["expected_purchases_per_buyer_90d"] = np.maximum(per_buyer, 1.0)
    return out


def expected_repeat_ratio(model: ValueModel, summary: pd.DataFrame) -> float:
    """In-sample calibration: repeat purchases the fitted population expects over each
    customer's observed T, over those observed (1 is perfect; needs no later months)."""
    data = model_data(summary)
    t = data["T"].to_numpy()
    library = model.purchases.model
    expected = point(library.expected_purchases_new_customer(data=data, t=t))
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
    buyers, repeat = history_counts(days, month)
    if buyers < MIN_BUYERS or repeat < MIN_REPEAT_BUYERS:
        return (
            f"{buyers} buyers, {repeat} repeat buyers up to {month}: at least "
            f"{MIN_BUYERS} and {MIN_REPEAT_BUYERS} are needed"
        )
    return None


def history_counts(days: pd.DataFrame, month: str) -> tuple[int, int]:
    """Buyers and repeat buyers (a priced purchase on two days or more) up to ``month``: what
    the minimums :data:`MIN_BUYERS` and :data:`MIN_REPEAT_BUYERS` are compared with."""
    summary = rfm_summary(days, last_day(month))
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    return len(summary), repeat


def empty_predictions() -> pd.DataFrame:
    """``customer_value``'s columns with no row (a month without enough history)."""
    return pd.DataFrame({"user_key": pd.Series(dtype="string")}).assign(
        **{c: pd.Series(dtype="float64") for c in VALUE_COLUMNS}
    )
