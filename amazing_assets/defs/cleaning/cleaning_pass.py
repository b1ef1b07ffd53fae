"""One pass of the cleaning tasks over a run's months: plan, classify, write, count.

Ingestion writes each month's rows in files of one customer bucket each: every task then reads
its bucket's files itself, classifies and pseudonymises them and writes both tables' files, so
no row crosses to the JVM. Files without a bucket (rewritten by an erasure, or older) take a
shuffle by user id instead. The asset commits the files, or aborts them when a month is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from amazing_assets.defs.cleaning.classification import (
    PRICE_INPUT_COLUMNS,
    CleaningRules,
    TaskFinish,
    category_medians,
    classified_schema,
    classify_events,
    classify_task,
    priced_rows,
    view_schema,
)
from amazing_assets.defs.cleaning.clean_tables import clean_rows, quarantine_rows
from amazing_assets.defs.cleaning.cleaning_write import (
    SUMMARY_SCHEMA,
    StagedCleaning,
    collect_staged,
    task_writer,
)
from amazing_assets.defs.cleaning.row_rules import MEDIAN_INPUT_SCHEMA
from amazing_assets.lib.buckets import Buckets, files_by_bucket, map_buckets
from amazing_assets.lib.customer_buckets import bucket_count
from amazing_assets.lib.delta_source import DeltaWriter, arrow_schema_for
from amazing_assets.lib.io_managers import read_spark
from amazing_assets.lib.storage import Location
from amazing_assets.lib.warehouse import WarehouseResource

OUTPUTS = (("clean_events", clean_rows), ("event_quarantine", quarantine_rows))


@dataclass(frozen=True)
class CleaningPass:
    session: SparkSession
    table: Location
    """raw_events."""
    months: list[str]
    rules: CleaningRules
    used: list[str]
    """What the rules and the outputs read (not the ingestion time): every column read costs."""
    buckets: Buckets | None
    tasks: int

    @classmethod
    def plan(
        cls,
        session: SparkSession,
        warehouse: WarehouseResource,
        months: list[str],
        rules: CleaningRules,
        raw_rows: dict[str, int],
    ) -> CleaningPass:
        table = warehouse.table("raw_events")
        used = [c for c in read_spark(session, table, months).columns if c != "_ingested_at"]
        buckets = files_by_bucket(table, months)
        tasks = (
            len(buckets)
            if buckets is not None
            else bucket_count(sum(raw_rows.values()), session.sparkContext.defaultParallelism)
        )
        return cls(session, table, months, rules, used, buckets, tasks)

    def classified(self, key: bytes | None = None, finish: TaskFinish | None = None) -> DataFrame:
        """With ``finish``, the tasks' summaries; without, the classified rows themselves (a
        refused month's, for rejected_events), which only the shuffle path returns."""
        session, table, months = self.session, self.table, self.months
        if self.buckets is not None and finish is not None:
            priced = map_buckets(
                session,
                table,
                self.buckets,
                list(PRICE_INPUT_COLUMNS),
                priced_rows,
                MEDIAN_INPUT_SCHEMA,
            )
            task = classify_task(self.rules, category_medians(priced, self.rules), key, finish)
            return map_buckets(
                session, table, self.buckets, self.used, task, arrow_schema_for(finish.schema)
            )
        prices = read_spark(session, table, months, columns=list(PRICE_INPUT_COLUMNS))
        rows = read_spark(session, table, months, columns=self.used)
        return classify_events(rows, self.rules, prices, self.tasks, key=key, finish=finish)

    def stage(
        self, warehouse: WarehouseResource, key: bytes
    ) -> tuple[dict[str, DeltaWriter], StagedCleaning]:
        """Both tables' files written by the classifying tasks, not committed yet; on a failure
        the files are deleted and nothing of the months changes."""
        schema = read_spark(self.session, self.table, self.months, columns=self.used).schema
        tokens = classified_schema(schema, key)
        writers = {
            name: DeltaWriter(
                location=warehouse.table(name),
                spark_schema=view_schema(rows_of, tokens),
                replace_months=self.months,
                write_id=uuid.uuid4().hex,
                description=f"{name} {self.months}",
            )
            for name, rows_of in OUTPUTS
        }
        finish = TaskFinish(
            task_writer(writers["clean_events"], writers["event_quarantine"], self.tasks),
            SUMMARY_SCHEMA,
        )
        try:
            return writers, collect_staged(self.classified(key, finish))
        except BaseException:
            for writer in writers.values():
                writer.abort([])
            raise
