"""Customer value on real purchase histories (CDNOW) and planted ones: priors that do not decide,
parameters recovered, churn horizons, model selection and tracking data.

CDNOW (``/work/shared/data/cdnow``): the 1/10 sample of the CDNOW cohort of Q1 1997, the
reference dataset of the BG/NBD paper (Fader, Hardie & Lee 2005); calibration January-September
1997, holdout October 1997-June 1998.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from amazing_assets.defs.value.backtest import back_test
from amazing_assets.defs.value.models import (
    fit_value_model,
    last_day,
    predict_value,
    purchase_days,
    rfm_summary,
)
from amazing_assets.defs.value.value_models import (
    BG_NBD,
    CANDIDATES,
    DEFAULT_MODEL,
    MODIFIED_BG_NBD,
    model_data,
    no_purchase_if_leaving_at_purchases,
    point,
)
from amazing_assets.defs.value.value_selection import select_model, tracking_record
from amazing_assets_tests.support.purchases import simulate_purchases

CDNOW = Path("/work/shared/data/cdnow/CDNOW_sample.txt")
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # alpha per week
# pymc-marketing's own tolerance for a MAP fit of BG/NBD on this very file against these
# figures: tests/clv/models/test_beta_geo.py::test_model_convergence, ("map", rtol=0.2).
PYMC_MARKETING_MAP_RTOL = 0.2


@pytest.fixture(scope="module")
def cdnow_days() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW, sep=r"\s+", header=None, names=["customer", "sample", "date", "cds", "value"]
    )
    times = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC")
    return purchase_days(
        pd.DataFrame({"customer": raw["customer"], "time": times, "value": raw["value"]})
    )


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_days) -> pd.DataFrame:
    return rfm_summary(cdnow_days, last_day("1997-09"))


@pytest.fixture(scope="module")
def cdnow_bg(cdnow_summary):
    return fit_value_model(cdnow_summary, model=BG_NBD)


@pytest.fixture(scope="module")
def cdnow_mbg(cdnow_summary):
    return fit_value_model(cdnow_summary, model=MODIFIED_BG_NBD)


def test_bg_nbd_recovers_the_published_cdnow_parameters(cdnow_summary, cdnow_bg):
    assert len(cdnow_summary) == 2_357 and cdnow_summary["frequency"].sum() == 2_457
    fit = cdnow_bg
    found = {k: fit.parameters[f"purchases_{k}"] for k in PUBLISHED_BG_NBD}
    for name, published in PUBLISHED_BG_NBD.items():
        assert found[name] == pytest.approx(published, rel=PYMC_MARKETING_MAP_RTOL), name
    # Flat priors make the MAP the maximum likelihood: the published figures to 1 %.
    for name, published in PUBLISHED_BG_NBD.items():
        assert found[name] == pytest.approx(published, rel=0.01), name
    # The published Gamma-Gamma fit on the same file (p 6.25, q 3.74, v 15.45).
    spend = [fit.parameters[f"spend_{k}"] for k in ("p", "q", "v")]
    np.testing.assert_allclose(spend, [6.25, 3.74, 15.45], rtol=0.01)


def test_the_time_unit_does_not_change_the_fit(cdnow_summary, cdnow_mbg):
    """Priors that decide are not scale-free: with the library's default priors, the same
    history counted in days or in weeks ("each day is a week") gave different r, a, b."""
    as_is = cdnow_mbg.parameters
    stretched = cdnow_summary.assign(recency=cdnow_summary["recency"] * 7, T=cdnow_summary["T"] * 7)
    longer = fit_value_model(stretched, model=MODIFIED_BG_NBD).parameters
    for name in ("purchases_r", "purchases_a", "purchases_b"):
        assert longer[name] == pytest.approx(as_is[name], rel=0.01), name
    assert longer["purchases_alpha"] == pytest.approx(7 * as_is["purchases_alpha"], rel=0.01)


def simulate_bg_nbd(
    n: int, r: float, alpha: float, a: float, b: float, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """BG/NBD histories from known parameters (weeks), simulated directly: Poisson purchases at
    rate λ ~ Gamma(r, α), leaving after each repeat purchase with p ~ Beta(a, b). Returns the
    RFM-T summary in days and whether each customer is still alive."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    horizon = rng.integers(20, 41, n).astype(float)  # weeks observed since the first purchase
    time, last = np.zeros(n), np.zeros(n)
    frequency = np.zeros(n)
    active = np.ones(n, dtype=bool)  # still buying within the window
    alive = np.ones(n, dtype=bool)
    while active.any():
        time[active] += rng.exponential(1 / lam[active])
        bought = active & (time <= horizon)
        frequency[bought] += 1
        last[bought] = time[bought]
        leaves = bought & (rng.random(n) < p)
        alive[leaves] = False
        active = bought & ~leaves
    summary = pd.DataFrame(
        {
            "user_key": np.arange(n),
            "frequency": frequency,
            "recency": last * 7,
            "T": horizon * 7,
            "monetary_value": np.where(frequency > 0, 10.0 + rng.random(n), 0.0),
        }
    )
    return summary, alive


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_bg_nbd_parameters_are_recovered(seed):
    planted = {"r": 0.8, "alpha": 3.0, "a": 0.8, "b": 2.5}
    summary, alive = simulate_bg_nbd(10_000, **planted, seed=seed)
    fit = fit_value_model(summary, model=BG_NBD)
    for name, value in planted.items():
        assert fit.parameters[f"purchases_{name}"] == pytest.approx(value, rel=0.15), name
    # P(alive) knows who left: the planted alive are predicted alive more often.
    predicted = predict_value(fit, summary)
    assert predicted["p_alive"][alive].mean() > predicted["p_alive"][~alive].mean() + 0.2
    assert predicted["p_alive"].mean() == pytest.approx(alive.mean(), abs=0.05)


def test_no_purchase_formula_matches_the_library_where_it_has_one(cdnow_summary, cdnow_bg):
    data = model_data(cdnow_summary)
    library = cdnow_bg.purchases.model
    alive = point(library.expected_probability_alive(data=data))
    r, alpha = cdnow_bg.parameters["purchases_r"], cdnow_bg.parameters["purchases_alpha"]
    repeat = data["frequency"].to_numpy() > 0
    for weeks in (30 / 7, 90 / 7):
        ours = no_purchase_if_leaving_at_purchases(alive, data, r, alpha, weeks)
        theirs = point(library.expected_probability_no_purchase(t=weeks, data=data))
        np.testing.assert_allclose(ours[repeat], theirs[repeat], atol=1e-6)
        # One-time buyers are alive for sure in BG/NBD: no purchase = no Poisson event in t.
        big_t = data["T"].to_numpy()[~repeat]
        np.testing.assert_allclose(ours[~repeat], ((alpha + big_t) / (alpha + big_t + weeks)) ** r)
        assert (theirs[~repeat] > ours[~repeat] + 1e-3).all()  # the library's x = 0 slip


@pytest.mark.parametrize("model", [BG_NBD, MODIFIED_BG_NBD])
def test_no_purchase_in_90_days_matches_what_happened(
    cdnow_days, cdnow_summary, cdnow_bg, cdnow_mbg, model
):
    fit = cdnow_bg if model == BG_NBD else cdnow_mbg
    predicted = predict_value(fit, cdnow_summary)
    p30, p60, p90 = (predicted[f"p_no_purchase_{d}d"] for d in (30, 60, 90))
    assert ((p30 >= p60 - 1e-9) & (p60 >= p90 - 1e-9)).all()
    assert (p90 >= predicted["churn_risk"] - 1e-9).all()  # who left does not buy
    assert (predicted["expected_purchases_per_buyer_90d"] >= 1).all()
    # The per-buyer figure and the chance to buy multiply back to the expected purchases.
    back = predicted["expected_purchases_per_buyer_90d"] * (1 - p90)
    np.testing.assert_allclose(back, predicted["expected_purchases_90d"], rtol=1e-6, atol=1e-6)
    end = last_day("1997-09")
    window = cdnow_days[(cdnow_days["day"] > end) & (cdnow_days["day"] <= end + 90)]
    silent = ~predicted["user_key"].isin(window["user_key"])
    assert p90.mean() == pytest.approx(silent.mean(), abs=0.03)  # 0.85 of customers on CDNOW


def test_cdnow_holdout_and_tracking_data(cdnow_days):
    test = back_test(cdnow_days, "1997-09", holdout_months=9, model=BG_NBD)
    assert test.holdout_months[0] == "1997-10" and test.holdout_months[-1] == "1998-06"
    assert test.actual_purchases == 1_882  # repeat purchase days, as in the literature
    assert 0.85 < test.purchase_ratio < 1.1  # measured 0.879; the old MAP fit gave 0.827
    track = test.tracking
    assert list(track["month"]) == test.holdout_months
    assert track["predicted_cumulative"].iloc[-1] == pytest.approx(test.predicted_purchases)
    assert track["actual_cumulative"].iloc[-1] == test.actual_purchases
    assert (track["predicted"] > 0).all() and track["actual_cumulative"].is_monotonic_increasing
    record = tracking_record(test)
    assert len(record["monthly"]) == 9 and len(record["deciles"]) == 10


def test_the_asset_metadata_carries_the_choice_the_scores_and_the_tracking_data(
    cdnow_days, cdnow_summary, cdnow_bg
):
    """What customer_value writes, built from real fits without a Dagster run; JSON strict."""
    from amazing_assets.defs.value.assets import value_metadata
    from amazing_assets.defs.value.backtest import MonthValue
    from amazing_assets.defs.value.checks import value_results
    from amazing_assets.defs.value.models import VALUE_COLUMNS
    from amazing_assets.defs.value.value_selection import Selection

    test = back_test(cdnow_days, "1997-06", holdout_months=3, model=BG_NBD)
    scores = pd.DataFrame([{**test.summary(), "purchase_ratio": float(test.purchase_ratio)}])
    selection = Selection(BG_NBD, "back-test at 1997-06", scores, {BG_NBD: test})
    predictions = predict_value(cdnow_bg, cdnow_summary)[["user_key", *VALUE_COLUMNS]]
    fit = MonthValue(
        "1997-09", predictions, cdnow_bg.parameters, 2_357, 1_000, "C", 1.0, test, BG_NBD, selection
    )
    metadata = value_metadata({"1997-09": fit}, ["1997-01"], {})
    assert metadata["purchase_model"] == BG_NBD
    chosen = metadata["model_selection"].data["1997-09"]
    assert chosen["chosen"] == BG_NBD and chosen["scores"][0]["calibration_end"] == "1997-06"
    tracking = metadata["tracking"].data
    assert [m["month"] for m in tracking["monthly"]] == ["1997-07", "1997-08", "1997-09"]
    for entry in ("model_selection", "tracking"):
        json.dumps(metadata[entry].data, allow_nan=False)
    results = {r.check_name: r for r in value_results({"1997-09": fit})}
    assert results["predictions_valid"].passed and results["parameters_finite"].passed


def test_the_back_test_chooses_the_model_and_keeps_every_score(cdnow_days):
    candidates = (BG_NBD, MODIFIED_BG_NBD)  # Pareto/NBD fits take minutes on a busy machine
    selection = select_model(cdnow_days, "1997-09", count=1, candidates=candidates)
    assert selection.judged and selection.chosen in candidates
    scores = selection.scores.set_index("model")
    assert set(scores.index) == set(candidates)
    assert (scores["calibration_end"] == "1997-06").all()
    assert scores["calibration_error"].idxmin() == selection.chosen
    assert "back-test at 1997-06" in selection.reason
    assert selection.tests[selection.chosen].calibration_end == "1997-06"


def test_too_short_a_history_says_so_and_uses_the_default(cdnow_days):
    first_quarter = cdnow_days[cdnow_days["day"] <= last_day("1997-03")]
    selection = select_model(first_quarter, "1997-03")
    assert not selection.judged and selection.chosen == DEFAULT_MODEL in CANDIDATES
    assert "no origin before 1997-03" in selection.reason


def first_month_of_purchases(seed: int) -> pd.DataFrame:
    """One month of a simulated marketplace: most buyers bought once, and the few repeat
    buyers show no spread of purchase rates the likelihood could measure."""
    tx = simulate_purchases(1_500, "2019-10", 4, seed=seed).transactions
    days = purchase_days(tx[["customer", "time", "value"]])
    return rfm_summary(days, last_day("2019-10"))


@pytest.mark.parametrize("seed", [2, 5])
@pytest.mark.parametrize("model", CANDIDATES)
def test_a_one_month_history_gives_finite_parameters_and_predictions(seed, model):
    """Flat priors let such a fit walk a ridge of the likelihood to infinity (r = 73 000:
    NaN predictions for every customer; Pareto/NBD: 190 s in one line search)."""
    summary = first_month_of_purchases(seed)
    fit = fit_value_model(summary, model=model)
    values = [v for k, v in fit.parameters.items() if k.startswith("purchases_")]
    assert all(np.isfinite(v) and 0 < v < 1_000 for v in values), fit.parameters
    predicted = predict_value(fit, summary)
    assert np.isfinite(predicted.drop(columns="user_key").to_numpy(dtype=float)).all()


def test_a_fit_with_non_finite_predictions_is_not_chosen(cdnow_days, monkeypatch):
    """A decile table of NaN predictions has no error: it must fail, not win the selection."""
    from amazing_assets.defs.value import backtest

    real = backtest.predict_purchases

    def nan_for_one_model(fitted, summary, horizon_days):
        out = real(fitted, summary, horizon_days)
        return out * np.nan if fitted.purchases.name == MODIFIED_BG_NBD else out

    monkeypatch.setattr(backtest, "predict_purchases", nan_for_one_model)
    candidates = (MODIFIED_BG_NBD, BG_NBD)
    selection = select_model(cdnow_days, "1997-09", count=1, candidates=candidates)
    assert selection.chosen == BG_NBD
    assert MODIFIED_BG_NBD in selection.reason and "non-finite" in selection.reason
