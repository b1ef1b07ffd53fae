"""Build the one SparkSession of a run process, with the project's data sources registered.

Kept free of Dagster so tests, benchmarks and the demo share the exact session the assets use.
"""

from __future__ import annotations

import logging
import os
import sys

from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

# Tuned for the 2-core / 24 GiB machines this project runs on; every key can be overridden.

DEFAULT_SPARK_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # Enough shuffle partitions that a 42 M-event month sorts in ~100 MB pieces; AQE merges
    # them back to a few per core on small months (measured in benchmarks/results/etl-*.md).
    "spark.sql.shuffle.partitions": "32",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.driver.memory": "4g",
    # Give unused heap back to the OS when Spark idles (the modelling steps of a run use pandas
    # and scikit-learn, not the JVM): G1 collects after 15 s without a GC and uncommits free heap.
    "spark.driver.extraJavaOptions": "-XX:+UseG1GC -XX:G1PeriodicGCInterval=15000",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Arrow batches to and from Python workers (pseudonymisation, the Delta writer): 10 k rows
    # by default, which makes per-batch work (distinct ids, month split) run 6x as often.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "65536",
    "spark.python.worker.reuse": "true",
    # The pipeline caches on disk only (see clean_events); compressing those columnar blocks
    # first (dictionary and run-length statistics, boxed comparisons per value) took 15 % of the
    # JVM's CPU in clean_events. Uncompressed, the blocks of a 10 M-event month take 1.9 GB of
    # local disk at the peak, written through the page cache and deleted when released.
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}


_started_by_runs = False
"""Whether the running SparkContext was started for a Dagster run (:func:`stop_spark_session`)."""


def build_spark_session(
    master: str = "local[*]",
    app_name: str = "amazing-segments",
    conf: dict[str, str] | None = None,
    *,
    for_run: bool = False,
) -> SparkSession:
    """Start (or reuse) the process' SparkSession and register the project's data sources.

    ``PYSPARK_PYTHON`` must point at this interpreter before the JVM starts: the data sources'
    readers, writers and commits run in Python workers launched by the JVM, and they must import
    ``amazing_assets`` from the same environment.

    ``for_run``: the caller is a run's Spark resource. A session it starts may be stopped by the
    run once its Spark steps are done; one that was already running (a notebook's, a test
    session's) is left alone.
    """
    global _started_by_runs
    from pyspark import SparkContext

    if SparkContext._active_spark_context is None:
        _started_by_runs = for_run
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in {**DEFAULT_SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    register_data_sources(session)
    logger.info(
        "Spark %s session on %s (%s)", session.version, session.sparkContext.master, app_name
    )
    return session


def register_data_sources(session: SparkSession) -> None:
    from amazing_assets.io.delta_source import DeltaDataSource
    from amazing_assets.io.landing_source import LandingCsvDataSource

    session.dataSource.register(DeltaDataSource)
    session.dataSource.register(LandingCsvDataSource)


def stop_spark_session(*, only_if_started_by_runs: bool = False, timeout_s: float = 60.0) -> bool:
    """Stop the process' SparkSession *and its JVM*; return False when none was stopped.

    ``SparkSession.stop()`` alone keeps the driver JVM alive with its heap committed (4 GiB
    after a real month's ETL), which the modelling steps of the same run would then sit beside:
    a 42 M-event run peaked at 9.4 GiB that way. The JVM exits when its stdin closes (PySpark's
    gateway contract); clearing the gateway lets :func:`build_spark_session` start a new one if
    a later step needs Spark again.
    """
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is None or (only_if_started_by_runs and not _started_by_runs):
        return False
    context.stop()
    gateway = SparkContext._gateway
    SparkContext._gateway = None
    SparkContext._jvm = None
    process = getattr(gateway, "proc", None)
    if gateway is not None:
        gateway.close()
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=timeout_s)
        except Exception:
            process.kill()
    logger.info("Spark session and its JVM stopped")
    return True
