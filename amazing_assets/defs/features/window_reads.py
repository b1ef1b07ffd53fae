"""What a run's feature windows read: the months, their gaps, and per-customer passes over
clean_events bucket by bucket (or after a shuffle when the files carry no bucket)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from amazing_assets.defs.features.features import window_gaps, window_months
from amazing_assets.defs.ingestion.sensors import landing_signatures
from amazing_assets.lib.buckets import Buckets, files_by_bucket, per_customer_frame
from amazing_assets.lib.customer_buckets import bucket_count
from amazing_assets.lib.delta_tables import month_row_counts, read_months, table_exists
from amazing_assets.lib.storage import Location
from amazing_assets.lib.warehouse import WarehouseResource


@dataclass(frozen=True)
class WindowInputs:
    months: list[str]
    """Every month the run's windows read."""
    gaps: dict[str, list[str]]
    """Each as-of month's window months lacking events."""
    aggregation_tasks: int
    """Tasks for the per-customer aggregation, sized to the events the windows hold."""


def window_inputs(warehouse: WarehouseResource, months: list[str], window: int) -> WindowInputs:
    """What the run's windows read, from the clean_events commit log (no data read)."""
    clean = warehouse.table("clean_events")
    counts = month_row_counts(clean) if table_exists(clean) else {}
    with_events = {m for m, n in counts.items() if n}
    with_exports = set(landing_signatures(warehouse.landing()))
    # An event counts once for each as-of month whose window holds it.
    events = sum(counts.get(w, 0) for m in months for w in window_months(m, window))
    return WindowInputs(
        months=sorted({w for m in months for w in window_months(m, window)}),
        gaps={m: window_gaps(m, window, with_events, with_exports) for m in months},
        aggregation_tasks=bucket_count(events),
    )


@dataclass(frozen=True)
class WindowReader:
    """Per-customer passes over the windows' clean events: each task reads only its columns of
    whole customers' files (a bucket's files when the files carry their bucket, as clean_events
    writes them), else the rows after a shuffle by customer."""

    session: SparkSession
    table: Location
    inputs: WindowInputs
    buckets: Buckets | None

    @classmethod
    def open(
        cls, session: SparkSession, warehouse: WarehouseResource, inputs: WindowInputs
    ) -> WindowReader:
        table = warehouse.table("clean_events")
        return cls(session, table, inputs, files_by_bucket(table, inputs.months))

    def per_customer(self, columns: tuple[str, ...], per_task: Callable, schema) -> DataFrame:
        return per_customer_frame(
            self.session,
            self.table,
            self.inputs.months,
            self.buckets,
            list(columns),
            per_task,
            schema,
            customer_column="user_key",
            partitions=self.inputs.aggregation_tasks,
        )


def stored_purchaser_share(warehouse: WarehouseResource, month: str) -> float | None:
    location = warehouse.table("user_features_rfm")
    if not table_exists(location):
        return None
    frequency = read_months(location, [month], columns=["frequency"]).column("frequency")
    if len(frequency) == 0:
        return None
    return sum(1 for f in frequency.to_pylist() if f and f > 0) / len(frequency)
