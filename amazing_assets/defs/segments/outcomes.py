"""What the modelling stage does with a degenerate month, decided before any library runs.

Real exports are not always full months of healthy traffic (a purchase-tag outage, a store that
opened mid-month, a sample cut for a test). Each case has a defined outcome:

* **too few customers** (none, a single one, or fewer than ``ModelingConfig.min_customers``:
  10 per possible segment, 110 by default): *not segmented*, with how many customers are
  needed; *not modelled* for value.
* **every customer with the same behaviour** (one distinct feature row): *not segmented*.
* **no buyers** (views and carts only, a purchase-tag outage; "one behaviour only"):
  segmented, browsing segments only; customer value *not modelled* (no buyer).
* **purchases only** (a buyers-only extract: no view, no cart; the other "one behaviour only"):
  segmented, buyer segments only (the constant views and carts carry no weight); customer value
  as its buyers allow.
* **no carts, every price zero, every event in one day, one product**: segmented (constant
  features carry no weight); customer value as its buyers allow.
* **fewer than 20 buyers or 10 repeat buyers**: segmented; customer value *not modelled*
  (``segmentation.value.too_little_history``).

"Not segmented" and "not modelled" are outcomes, not failures: the asset materialises, its
metadata carry ``status``, ``reason`` and ``needed``, its stored tables hold no row for the
month (and an ``outcome`` row that says why), and the assets downstream, the report and the app
read that outcome instead of failing on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.defs.segments.modeling import MODEL_FEATURES, ModelingConfig

SEGMENTED = "segmented"
NOT_SEGMENTED = "not_segmented"
OUTCOME_TABLE = "outcome"
"""Name of the one-row-per-month table each modelling asset stores beside its model."""
OUTCOME_COLUMNS = ("status", "reason", "needed")


@dataclass(frozen=True)
class Outcome:
    """How a month ended for an asset: ``status``, and when not done, why and what is needed."""

    status: str
    reason: str = ""
    needed: str = ""

    @property
    def segmented(self) -> bool:
        return self.status == SEGMENTED

    def frame(self) -> pd.DataFrame:
        """The outcome as a one-row table (stored as ``<asset>/outcome``)."""
        return pd.DataFrame({c: [getattr(self, c)] for c in OUTCOME_COLUMNS})

    def sentence(self) -> str:
        """``status: reason; needed`` for logs, metadata and the report."""
        if self.segmented:
            return self.status
        return f"{self.status}: {self.reason}; {self.needed}"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None) -> Outcome:
        """The stored outcome of a month; a month stored before outcomes existed was segmented."""
        if frame is None or not len(frame) or "status" not in frame.columns:
            return cls(SEGMENTED)
        row = frame.iloc[0]
        return cls(*(str(row.get(c) or "") for c in OUTCOME_COLUMNS))


SEGMENTED_OUTCOME = Outcome(SEGMENTED)


def min_customers(config: ModelingConfig) -> int:
    """Customers needed to segment (``ModelingConfig.min_customers``: the embedding's guard
    reads the same rule, so the outcome and the model never disagree on "too few")."""
    return config.min_customers


def distinct_behaviours(features: pd.DataFrame) -> int:
    """How many different model-feature rows the month has (capped at 2: only 0, 1, 2+ matter)."""
    values = features.loc[:, list(MODEL_FEATURES)].to_numpy(dtype=float)
    if len(values) == 0:
        return 0
    return 1 if np.all(values == values[0]) else 2


def segmentation_outcome(features: pd.DataFrame, config: ModelingConfig) -> Outcome:
    """Whether the month can be segmented and, when not, why and what would make it possible.

    Missing model columns are not a degenerate month but a broken table: that stays an error.
    """
    missing = [c for c in MODEL_FEATURES if c not in features.columns]
    if missing:
        raise ValueError(f"features lack model columns {missing}")
    needed_customers = min_customers(config)
    customers = len(features)
    if customers < needed_customers:
        who = "no customer has" if customers == 0 else f"only {customers:,} customer(s) have"
        return Outcome(
            NOT_SEGMENTED,
            f"{who} features this month; segmenting needs at least {needed_customers:,} "
            f"({needed_customers // config.max_segments} per possible segment, "
            f"{config.max_segments} segments at most)",
            f"a fuller export of the month (at least {needed_customers:,} customers with events); "
            "a sample or a partial day is too small",
        )
    if distinct_behaviours(features) < 2:
        return Outcome(
            NOT_SEGMENTED,
            f"all {customers:,} customers have exactly the same behaviour (recency, orders, "
            "spend, views, carts): there is nothing to tell them apart",
            "an export with real traffic (this looks like a synthetic or replayed test month)",
        )
    return SEGMENTED_OUTCOME
