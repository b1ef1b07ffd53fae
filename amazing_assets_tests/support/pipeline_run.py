"""A real two-month pipeline run on generated data, shared by the end-to-end suites.

One backfill of the whole chain (Spark, Delta, scikit-learn) per test session, one run per month
as the demo and Dagster's backfills run it: the pipeline tests assert on it, the Panel app's
browser tests serve its warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.demo import materialize_months
from amazing_assets.lib.settings import load_settings

MONTHS = ["2019-10", "2019-11"]
ASSETS = {
    "raw_events",
    "clean_events",
    "event_quarantine",
    "user_features_rfm",
    "monthly_kpis",
    "pca_embedding",
    "kmeans_model",
    "cluster_profiles",
    "segment_migration",
    "purchase_days",
    "customer_value",
    "audience_exports",
    "audience_export_log",
    "action_outcomes",
    "month_verdict",
    "segment_alerts",
}
"""Every asset the monthly job materialises (rejected_events, erasure_audit and erased_customers
are written by the steps that refuse a month and by the erasure job)."""


def definitions_for(tmp: Path, landing: Path) -> dg.Definitions:
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp / "home"),
            "AMAZING_LANDING": str(landing),
            "AMAZING_WAREHOUSE": str(tmp / "warehouse"),
        }
    )
    return build_definitions(settings)


def run(defs: dg.Definitions, **kwargs) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("monthly_segments").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, **kwargs
    )
    return result


@dataclass(frozen=True)
class MonthRuns:
    """The runs of a backfill, one per month, read as one result."""

    by_month: dict[str, dg.ExecuteInProcessResult]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.by_month.values())

    def get_asset_check_evaluations(self) -> list:
        return [c for r in self.by_month.values() for c in r.get_asset_check_evaluations()]

    def get_asset_materialization_events(self) -> list:
        return [e for r in self.by_month.values() for e in r.get_asset_materialization_events()]

    def failures(self) -> list[str]:
        return [e.message for r in self.by_month.values() for e in r.all_events if e.is_failure]


@dataclass(frozen=True)
class Backfilled:
    """A warehouse filled by one real run: where it is and what the run reported."""

    tmp: Path
    landing: Path
    defs: dg.Definitions
    result: MonthRuns

    def __iter__(self):  # unpacks as (tmp, landing, defs, result)
        return iter((self.tmp, self.landing, self.defs, self.result))

    @property
    def warehouse(self) -> Path:
        return self.tmp / "warehouse"

    @property
    def home(self) -> Path:
        return self.tmp / "home"


def backfill_generated_months(tmp: Path) -> Backfilled:
    landing = tmp / "landing"
    for index, month in enumerate(MONTHS):
        generate_month(
            GenerationSpec(month=month, events=20_000, users=2_000, seed=9, month_index=index),
            landing,
        )
    defs = definitions_for(tmp, landing)
    result = MonthRuns(materialize_months(MONTHS, dg.DagsterInstance.ephemeral(), defs))
    assert result.success, result.failures()
    return Backfilled(tmp, landing, defs, result)
