"""The candidate purchase models of ``customer_value``, with priors that do not decide.

Three "buy till you die" models from ``pymc-marketing`` (their likelihoods, not ours); the first
two are judged every month (:data:`CANDIDATES`):

- ``bg_nbd``: BG/NBD (Fader, Hardie & Lee 2005). A customer may leave only right after a repeat
  purchase, so a one-time buyer is always "alive" (churn risk 0).
- ``modified_bg_nbd``: modified BG/NBD (Batislam et al. 2007): may also leave right after the
  first purchase. The default when the history is too short to judge (see
  ``value_selection.py``): it was the project's model before, and it gives one-time buyers a
  churn risk.
- ``pareto_nbd``: Pareto/NBD (Schmittlein et al. 1987): leaves at any time, purchases or not.

**Priors: nearly flat (``Exponential(0.01)`` per week-scaled parameter), so the MAP fit is the
maximum-likelihood fit wherever the data decide, and a finite point where they do not.** Four
population parameters are estimated from thousands of customers: the likelihood is sharp and a
prior has nothing to add, but it can take something away. The library's defaults (e.g.
``alpha ~ Weibull(2, 10)``) are not scale-free: the same data in days or in weeks gave different
fits, and on CDNOW in days they moved the modified BG/NBD 8-25 % away from its maximum
likelihood (and Pareto/NBD's holdout forecast from 0.885 to 1.044: a prior, not the data,
deciding). A *flat* prior has the opposite defect: when a short history shows no spread of
purchase rates (one month, most buyers once), the likelihood keeps rising along the Poisson
ridge (r, α → ∞ with r/α fixed) or Pareto/NBD's no-dropout ridge (s, β → ∞): the optimiser
walked to r = 73 000, where the library's formulas return NaN for every customer, and a
Pareto/NBD fit spent 190 s in one line search. ``Exponential(0.01)`` costs 1 nat at a parameter of
100: it stops those walks at a finite, equally predictive point, and moves the CDNOW fits by
less than 1 % (tested: the published BG/NBD parameters and the time-unit invariance to 1 %).
Histories too small for a sharp likelihood are not modelled at all (``value.too_little_history``).

Time is measured in weeks inside the fit (:data:`TIME_UNIT_DAYS`), the literature's unit: the
parameters are then comparable with published ones and of order 1, which the optimiser likes.
Everything outside this module stays in days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

BG_NBD = "bg_nbd"
MODIFIED_BG_NBD = "modified_bg_nbd"
PARETO_NBD = "pareto_nbd"
MODELS: tuple[str, ...] = (BG_NBD, MODIFIED_BG_NBD, PARETO_NBD)
# Judged every month. Pareto/NBD is not: pymc-marketing 0.19 evaluates its likelihood through
# Gauss's hypergeometric function, whose series (and its gradient's) runs for minutes where the
# parameters near the no-dropout limit (one fit of 1 500 simulated buyers: 111 s; another never
# finished in 8 min, with L-BFGS-B or Powell alike), and on CDNOW it had the worst back-test
# score of the three. It stays available to ``select_model(candidates=MODELS)`` and the benchmark.
CANDIDATES: tuple[str, ...] = (BG_NBD, MODIFIED_BG_NBD)
DEFAULT_MODEL = MODIFIED_BG_NBD
TIME_UNIT_DAYS = 7.0
NO_PURCHASE_HORIZONS: tuple[int, ...] = (30, 60, 90)

PARAMETERS: dict[str, tuple[str, ...]] = {
    BG_NBD: ("r", "alpha", "a", "b"),
    MODIFIED_BG_NBD: ("r", "alpha", "a", "b"),
    PARETO_NBD: ("r", "alpha", "s", "beta"),
}
SPEND_PARAMETERS = ("p", "q", "v")


def _model_class(name: str) -> Any:
    from pymc_marketing import clv

    classes = {
        BG_NBD: clv.BetaGeoModel,
        MODIFIED_BG_NBD: clv.ModifiedBetaGeoModel,
        PARETO_NBD: clv.ParetoNBDModel,
    }
    if name not in classes:
        raise ValueError(f"unknown purchase model {name!r}; models: {MODELS}")
    return classes[name]


PRIOR_RATE = 0.01  # per unit of a parameter (weeks for scales): 1 nat at 100


def weak_priors(names: tuple[str, ...]) -> dict[str, Any]:
    """``Exponential(PRIOR_RATE)`` on each parameter: flat where the data speak, finite where
    a ridge of the likelihood would otherwise run to infinity (see the module docstring)."""
    from pymc_extras.prior import Prior

    return {name: Prior("Exponential", lam=PRIOR_RATE) for name in names}


def flat_priors(names: tuple[str, ...]) -> dict[str, Any]:
    """``HalfFlat`` on each parameter (MAP = maximum likelihood): for Gamma-Gamma, whose scale
    ``v`` is in money and would make any fixed-rate prior depend on the currency."""
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def model_data(summary: pd.DataFrame) -> pd.DataFrame:
    """The RFM-T summary (days) as the library wants it: ``customer_id`` 0..n-1, weeks."""
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["frequency"].to_numpy(dtype=float),
            "recency": summary["recency"].to_numpy(dtype=float) / TIME_UNIT_DAYS,
            "T": summary["T"].to_numpy(dtype=float) / TIME_UNIT_DAYS,
            "monetary_value": summary["monetary_value"].to_numpy(dtype=float),
        }
    )


def point(values: Any) -> np.ndarray:
    """A MAP prediction (chain × draw of size 1) as a plain vector."""
    return np.asarray(values.mean(dim=("chain", "draw")), dtype=float)


def scalar(model: Any, name: str) -> float:
    return float(np.asarray(model.fit_result[name]).squeeze())


@dataclass
class PurchaseModel:
    """A fitted candidate: its name, the library object and its parameters (weeks)."""

    name: str
    model: Any
    parameters: dict[str, float] = field(default_factory=dict)

    def expected_purchases(self, data: pd.DataFrame, horizon_days: float) -> np.ndarray:
        """Expected purchase days in the next ``horizon_days`` (``data`` from model_data)."""
        future = horizon_days / TIME_UNIT_DAYS
        return np.maximum(point(self.model.expected_purchases(data=data, future_t=future)), 0.0)

    def p_alive(self, data: pd.DataFrame) -> np.ndarray:
        return np.clip(point(self.model.expected_probability_alive(data=data)), 0.0, 1.0)

    def p_no_purchase(self, data: pd.DataFrame, horizon_days: float) -> np.ndarray:
        """P(no purchase in the next ``horizon_days``) per customer.

        Pareto/NBD (leaves at any time): the library's formula. BG/NBD and modified BG/NBD:
        a customer leaves only at a purchase, so one who is alive now makes no purchase in
        (T, T+t] with probability ((α+T)/(α+T+t))^(r+x) (the Gamma posterior of the purchase
        rate), and one who has left makes none:
        P = (1 − P(alive)) + P(alive)·((α+T)/(α+T+t))^(r+x), with the library's P(alive).
        Modified BG/NBD has no such method in pymc-marketing 0.19; BG/NBD's method
        (Hardie's note, eq. 34) omits the note's δ(x>0) on its second term, so it over-states
        the probability for one-time buyers (0.988 instead of 0.977 at 30 days on CDNOW). The
        formula here equals the library's wherever x > 0 (tested).
        """
        t = horizon_days / TIME_UNIT_DAYS
        if self.name == PARETO_NBD:
            values = self.model.expected_purchase_probability(data=data, n_purchases=0, future_t=t)
            return np.clip(point(values), 0.0, 1.0)
        return no_purchase_if_leaving_at_purchases(
            self.p_alive(data), data, self.parameters["r"], self.parameters["alpha"], t
        )


def no_purchase_if_leaving_at_purchases(
    p_alive: np.ndarray, data: pd.DataFrame, r: float, alpha: float, t: float
) -> np.ndarray:
    """P(no purchase in t) for models where customers leave only at a purchase (BG family)."""
    x = data["frequency"].to_numpy(dtype=float)
    big_t = data["T"].to_numpy(dtype=float)
    silent_if_alive = np.exp((r + x) * (np.log(alpha + big_t) - np.log(alpha + big_t + t)))
    return np.clip((1.0 - p_alive) + p_alive * silent_if_alive, 0.0, 1.0)


def fit_purchase_model(name: str, data: pd.DataFrame) -> PurchaseModel:
    """MAP fit (maximum likelihood up to the weak prior) of candidate ``name`` on ``data``."""
    names = PARAMETERS[name]
    model = _model_class(name)(model_config=weak_priors(names))
    model.fit(data[["customer_id", "frequency", "recency", "T"]], method="map", progressbar=False)
    return PurchaseModel(name, model, {k: scalar(model, k) for k in names})


def fit_spend_model(data: pd.DataFrame) -> Any:
    """Gamma-Gamma on the repeat buyers (flat priors: its likelihood has no ridge seen here)."""
    from pymc_marketing import clv

    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    if len(repeat) < 2:
        raise ValueError("fewer than two repeat buyers: the spend model cannot be fitted")
    spend = clv.GammaGammaModel(model_config=flat_priors(SPEND_PARAMETERS))
    spend.fit(
        repeat[["customer_id", "frequency", "monetary_value"]], method="map", progressbar=False
    )
    return spend
