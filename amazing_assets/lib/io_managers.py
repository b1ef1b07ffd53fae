"""Dagster IO managers: assets return DataFrames/tables, the warehouse decides where they go.

``SparkDeltaIOManager`` writes a Spark DataFrame to ``<warehouse>/<asset>`` as a Delta table,
replacing exactly the months of the run (one, or a range in a single-run backfill), and loads
upstream months as a Spark DataFrame, or as a pandas DataFrame when the input is annotated so.
"""

import uuid

import dagster as dg
import pandas as pd
from pyspark.sql import DataFrame

from amazing_assets.lib.delta_source import FORMAT_NAME
from amazing_assets.lib.delta_tables import month_row_counts, read_months, table_exists
from amazing_assets.lib.launch_guard import DeploymentIOManager
from amazing_assets.lib.partitions import month_of
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.storage import LOCATION_OPTION, Location
from amazing_assets.lib.warehouse import WarehouseResource


def table_name(asset_key: dg.AssetKey) -> str:
    return "/".join(asset_key.path)


def partition_months(context: dg.OutputContext | dg.InputContext) -> list[str]:
    if not context.has_asset_partitions:
        raise dg.Failure("warehouse tables are monthly: materialise a month (or a range of months)")
    return sorted(month_of(k) for k in context.asset_partition_keys)


def write_months(
    spark_df: DataFrame, location: Location, months: list[str], description: str
) -> str:
    """Replace ``months`` of the table at ``location`` with ``spark_df``; return the write id."""
    write_id = uuid.uuid4().hex
    (
        spark_df.write.format(FORMAT_NAME)
        .mode("overwrite")
        .option(LOCATION_OPTION, location.to_option())
        .option("replace_months", ",".join(months))
        .option("write_id", write_id)
        .option("description", description)
        .save()
    )
    return write_id


def table_metadata(location: Location, months: list[str]) -> dict:
    """What a stored output says in the UI: where its table is, and its rows per month (from
    the commit log)."""
    counts = month_row_counts(location)
    return {
        "table_uri": dg.MetadataValue.path(location.uri),
        "rows": sum(counts.get(m, 0) for m in months),
        "rows_by_month": dg.MetadataValue.json({m: counts.get(m, 0) for m in months}),
    }


def read_spark(
    spark, location: Location, months: list[str], columns: list[str] | None = None
) -> DataFrame:
    """``months`` of the table; only ``columns`` (all when None) cross from Python to the JVM."""
    reader = (
        spark.read.format(FORMAT_NAME)
        .option(LOCATION_OPTION, location.to_option())
        .option("months", ",".join(months))
    )
    if columns:
        reader = reader.option("columns", ",".join(columns))
    return reader.load()


class SparkDeltaIOManager(DeploymentIOManager):
    """Monthly Delta tables in the warehouse, written and read by Spark."""

    warehouse: dg.ResourceDependency[WarehouseResource]
    spark: dg.ResourceDependency[SparkResource]

    def handle_output(self, context: dg.OutputContext, obj: DataFrame) -> None:
        if obj is None:  # one I/O contract: never a silent no-op
            raise dg.Failure(
                f"{table_name(context.asset_key)} returned None to the Spark IO manager: return "
                "a DataFrame, or write the table yourself, return dg.MaterializeResult and "
                "declare no IO manager"
            )
        months = partition_months(context)
        location = self.warehouse.table(table_name(context.asset_key))
        write_months(obj, location, months, description=f"{table_name(context.asset_key)} {months}")
        if obj.is_cached:
            obj.unpersist()
        context.add_output_metadata(table_metadata(location, months))

    def load_input(self, context: dg.InputContext) -> DataFrame | pd.DataFrame:
        location = self.warehouse.table(table_name(context.asset_key))
        months = partition_months(context)
        if not table_exists(location):
            raise dg.Failure(
                f"{table_name(context.asset_key)} has no table yet at {location.uri}: "
                f"materialise it for {months} first"
            )
        if context.dagster_type.typing_type is pd.DataFrame:
            return read_months(location, months).to_pandas()
        return read_spark(self.spark.session(), location, months)
