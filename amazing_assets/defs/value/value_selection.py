"""Which purchase model this month: a rolling-origin back-test on the customers' own history.

For an as-of month M and a holdout of h months, the origins are M−h, M−h−1, … (at most
:data:`ORIGINS`): at each origin every candidate (``value_models.CANDIDATES``) is fitted on the
purchases up to the origin and predicts the next h months, all of them observed by M. The model
with the lowest mean calibration error (``BackTest.calibration_error``: purchases misplaced
across deciles of predicted purchases, over actual purchases; it includes the aggregate error)
is fitted again on everything up to M and predicts the future.

**Too short a history.** An origin needs enough buyers and repeat buyers before it
(``value.too_little_history``) and h observed months after it. With no such origin, nothing
can be judged: the month uses :data:`value_models.DEFAULT_MODEL` (modified BG/NBD: it gives
one-time buyers a churn risk, which plain BG/NBD cannot, and it was the project's model on
which the generators back-tested at 1.00-1.02) and says so in ``Selection.reason``.

The selection is judged on a random sample of :data:`SELECTION_SAMPLE` customers (the
population has 4 parameters; 20 k buyers pin them down, and a decile holds 2 k of them): its
cost stays flat from 20 k to 1 M buyers. The final fit uses ``value.FIT_SAMPLE`` and predicts
for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from amazing_assets.defs.value.backtest import BackTest, back_test
from amazing_assets.defs.value.models import last_day, too_little_history
from amazing_assets.defs.value.value_models import CANDIDATES, DEFAULT_MODEL

ORIGINS = 2
SELECTION_SAMPLE = 20_000


@dataclass
class Selection:
    """The chosen model, why, and every candidate's score at every origin."""

    chosen: str
    reason: str
    scores: pd.DataFrame  # model, calibration_end, purchase_ratio, calibration_error, ...
    tests: dict[str, BackTest] = field(default_factory=dict)  # each model at the latest origin

    @property
    def judged(self) -> bool:
        """Whether a back-test chose the model (False: the documented default)."""
        return not self.scores.empty

    def mean_scores(self) -> pd.DataFrame:
        """Per candidate: mean calibration error and purchase ratio over the origins."""
        if self.scores.empty:
            return self.scores
        grouped = self.scores.groupby("model")
        return (
            pd.DataFrame(
                {
                    "origins": grouped.size(),
                    "calibration_error": grouped["calibration_error"].mean(),
                    "purchase_ratio": grouped["purchase_ratio"].mean(),
                }
            )
            .sort_values("calibration_error")
            .reset_index()
        )


def origins(
    days: pd.DataFrame, month: str, holdout_months: int = 3, count: int = ORIGINS
) -> list[str]:
    """The back-test origins for ``month``, latest first: those with enough history before."""
    latest = pd.Period(month, "M") - holdout_months
    chosen = []
    for k in range(count):
        origin = str(latest - k)
        if (days["day"] <= last_day(origin)).any() and too_little_history(days, origin) is None:
            chosen.append(origin)
    return chosen


def select_model(
    days: pd.DataFrame,
    month: str,
    *,
    holdout_months: int = 3,
    count: int = ORIGINS,
    sample: int = SELECTION_SAMPLE,
    candidates: tuple[str, ...] = CANDIDATES,
) -> Selection:
    """Back-test every candidate at the rolling origins before ``month``; choose the best.

    Judged on a random sample of ``sample`` customers (fitted and scored on them), so that the
    selection costs the same at 20 k and at 1 M buyers."""
    keys = days["user_key"].unique()
    if len(keys) > sample:
        chosen_keys = np.random.default_rng(0).choice(keys, sample, replace=False)
        days = days[days["user_key"].isin(chosen_keys)]
    starts = origins(days, month, holdout_months, count)
    if not starts:
        return Selection(
            DEFAULT_MODEL,
            f"default ({DEFAULT_MODEL}): no origin before {month} has enough buyers and "
            f"{holdout_months} observed months after it, so no back-test can judge the models",
            pd.DataFrame(),
        )
    rows: list[dict[str, object]] = []
    tests: dict[str, BackTest] = {}
    failures: dict[str, str] = {}
    for name in candidates:
        for origin in starts:
            try:
                test = back_test(days, origin, holdout_months, sample=sample, model=name)
            except (ValueError, RuntimeError, FloatingPointError) as error:
                failures[name] = f"{origin}: {error}"[:200]
                break
            rows.append({**test.summary(), "purchase_ratio": float(test.purchase_ratio)})
            tests.setdefault(name, test)  # the latest origin comes first
    scores = pd.DataFrame(rows)
    usable = scores[np.isfinite(scores["calibration_error"])] if len(scores) else scores
    usable = usable[~usable["model"].isin(failures)] if len(usable) else usable
    if usable.empty:
        return Selection(
            DEFAULT_MODEL,
            f"default ({DEFAULT_MODEL}): no candidate could be back-tested ({failures})",
            scores,
            tests,
        )
    means = usable.groupby("model")["calibration_error"].mean()
    order = {name: i for i, name in enumerate(candidates)}  # ties: the earlier candidate
    chosen = min(means.index, key=lambda name: (round(float(means[name]), 6), order[name]))
    reason = (
        f"back-test at {', '.join(starts)} ({holdout_months}-month holdouts): lowest mean "
        f"calibration error {means[chosen]:.3f}"
        + (f"; not back-tested: {failures}" if failures else "")
    )
    return Selection(chosen, reason, scores, tests)


def selection_record(selection: Selection) -> dict[str, object]:
    """The choice, its reason and every candidate's score per origin (JSON for metadata)."""
    return {
        "chosen": selection.chosen,
        "judged_by_back_test": selection.judged,
        "reason": selection.reason,
        "mean_scores": _records(selection.mean_scores()),
        "scores": _records(
            selection.scores[
                ["model", "calibration_end", "purchase_ratio", "calibration_error"]
                + [c for c in ("predicted_purchases", "actual_purchases") if c in selection.scores]
            ]
            if selection.judged
            else selection.scores
        ),
    }


def tracking_record(test: BackTest) -> dict[str, object]:
    """What the app draws: per holdout month, predicted vs actual repeat purchases (and both
    cumulated), and calibration by decile of predicted purchases (JSON for metadata)."""
    return {
        "model": test.model,
        "calibration_end": test.calibration_end,
        "monthly": _records(test.tracking),
        "deciles": _records(test.deciles),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(
            {
                k: (
                    (round(float(v), 4) if np.isfinite(v) else None)
                    if isinstance(v, (float, np.floating))
                    else _plain(v)
                )
                for k, v in row.items()
            }
        )
    return out


def _plain(value: object) -> object:
    """JSON-safe: numpy integers as int, NaN as None, anything else odd as text."""
    if isinstance(value, np.integer):
        return int(value)
    return value if isinstance(value, (int, str, list, type(None))) else str(value)
