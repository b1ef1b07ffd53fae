"""Dagster resource handing assets the run process' SparkSession."""

from pydantic import Field
from pyspark.sql import SparkSession

from amazing_assets.resources.launch_guard import DeploymentResource
from amazing_assets.resources.spark_session import build_spark_session


class SparkResource(DeploymentResource):
    """One SparkSession per run process: ``local[*]`` by default, a cluster URL in compose.

    Not dagster-pyspark's ``PySparkResource``: ours must set ``PYSPARK_PYTHON`` before the JVM
    starts and register the project's Python data sources on the session, which that resource
    does not let us hook. The session is the same ``SparkSession.builder`` underneath.
    """

    master: str = Field(default="local[*]", description="Spark master URL")
    conf: dict[str, str] = Field(default_factory=dict, description="extra Spark configuration")

    def session(self) -> SparkSession:
        return build_spark_session(master=self.master, conf=self.conf, for_run=True)
