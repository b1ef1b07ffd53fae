"""The one SparkSession of a run process: how it is built and stopped, and the Dagster resource.

:func:`build_spark_session` needs no Dagster, so tests, benchmarks and the demo share the exact
session the assets use; :class:`SparkResource` hands it to the assets.
"""

from __future__ import annotations

import logging

import dagster as dg
from pydantic import Field
from pyspark.sql import SparkSession

from amazing_assets.lib.launch_guard import DeploymentResource
from amazing_assets.lib.settings import use_this_interpreter_for_spark

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
    use_this_interpreter_for_spark()
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
    """The warehouse's Delta data source, which every stage reads and writes through. The
    landing source belongs to ingestion, which registers it where it reads exports."""
    from amazing_assets.lib.delta_source import DeltaDataSource

    session.dataSource.register(DeltaDataSource)


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


class SparkResource(DeploymentResource):
    """One SparkSession per run process: ``local[*]`` by default, a cluster URL in compose.

    Not dagster-pyspark's ``PySparkResource``: ours must set ``PYSPARK_PYTHON`` before the JVM
    starts and register the project's Python data sources on the session, which that resource
    does not let us hook. The session is the same ``SparkSession.builder`` underneath.
    """

    master: str = Field(default="local[*]", description="Spark master URL")
    conf: dict[str, str] = Field(default_factory=dict, description="extra Spark configuration")
    assets_using_spark: list[str] = Field(
        default_factory=list,
        description="assets whose steps use Spark: once a run has materialised those it "
        "selected, its later steps stop the JVM (release_when_done)",
    )

    def session(self) -> SparkSession:
        return build_spark_session(master=self.master, conf=self.conf, for_run=True)

    def still_needed(self, context: dg.AssetExecutionContext) -> bool:
        """Whether an asset of this run that uses Spark has yet to be materialised by it.

        Steps run one after the other in the run process (``in_process_executor``), so a Spark
        asset the run selected and has not materialised yet comes later. Public APIs only: the
        run's asset selection (None: the whole job, every Spark asset) and each asset's latest
        materialisation event.
        """
        selection = context.run.asset_selection
        pending = [
            key
            for key in map(dg.AssetKey.from_user_string, self.assets_using_spark)
            if selection is None or key in selection
        ]
        for key in pending:
            latest = context.instance.get_latest_materialization_event(key)
            if latest is None or latest.run_id != context.run.run_id:
                return True
        return False

    def release_when_done(self, context: dg.AssetExecutionContext) -> None:
        """Stop the run's Spark JVM once no later step of the run needs it.

        Called by the modelling steps (pandas and scikit-learn): after a real month's ETL the
        idle driver JVM keeps ~4 GiB committed, which the modelling would otherwise sit beside.
        A step that needs Spark later anyway starts a new JVM (seconds), so this only ever costs
        time, never correctness. A session the run did not start (a notebook's, a test
        session's) is left running.
        """
        if not self.still_needed(context) and stop_spark_session(only_if_started_by_runs=True):
            context.log.info("Spark is not needed by the rest of this run: its JVM was stopped")
