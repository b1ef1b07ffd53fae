"""IO manager for the modelling stage: pandas tables and fitted models, per month.

* A ``pandas.DataFrame`` with a ``month`` column goes to the Delta table ``<warehouse>/<asset>``,
  replacing the run's months.
* :class:`MonthlyModels` (month → :class:`ModelOutput`) stores each month's fitted model with
  skops under ``<warehouse>/<asset>/model/month=YYYY-MM/`` and its tables as Delta tables
  ``<warehouse>/<asset>/<table>``; loading returns the same structure, models integrity-checked.
* :class:`FrameWithTables`: the frame as above, and small side tables (a month's model quality,
  for the app) as Delta tables ``<warehouse>/<folder>/<table>``, each with the run's months
  replaced. Not under ``<asset>/``: that folder is the frame's Delta table, whose vacuum would
  delete another table's files. Loading the asset returns the frame only.
"""

from dataclasses import dataclass, field

import dagster as dg
import pandas as pd
import pyarrow as pa

from amazing_assets.lib.artifacts import load_model, model_location, save_model
from amazing_assets.lib.delta_tables import read_months, table_exists, write_arrow_months
from amazing_assets.lib.io_managers import partition_months, table_name
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.launch_guard import DeploymentIOManager
from amazing_assets.lib.model_signing import model_signing_key
from amazing_assets.lib.storage import Location
from amazing_assets.lib.warehouse import WarehouseResource


@dataclass
class ModelOutput:
    """One month's fitted model and the tables that go with it."""

    model: object
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)


class MonthlyModels(dict):
    """month (``YYYY-MM``) → :class:`ModelOutput`."""


@dataclass
class FrameWithTables:
    """An asset's table (with a ``month`` column) and side tables under ``folder``, each with a
    ``month`` column, every run month replaced (a month without rows is emptied)."""

    frame: pd.DataFrame
    folder: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow; a frame without rows (a month not segmented) keeps only the columns
    whose type it knows: its ``month`` (text), so the write replaces the month with nothing,
    and no untyped column that the table's schema would have to merge with."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if table.num_rows:
        return table
    keep = [f.name for f in table.schema if f.name == "month" or not pa.types.is_null(f.type)]
    table = table.select(keep)
    if "month" in keep and pa.types.is_null(table.schema.field("month").type):
        table = table.set_column(keep.index("month"), "month", pa.array([], type=pa.string()))
    return table


class ModelIOManager(DeploymentIOManager):
    """Models and pandas tables of the modelling stage, in the warehouse."""

    warehouse: dg.ResourceDependency[WarehouseResource]
    pseudonymization_key: dg.ResourceDependency[PseudonymizationKeyResource]

    def _signing_key(self) -> bytes:
        """Manifests are signed with a key derived from (not equal to) the pseudonymisation key."""
        return model_signing_key(self.pseudonymization_key.key_bytes())

    def handle_output(
        self, context: dg.OutputContext, obj: pd.DataFrame | MonthlyModels | FrameWithTables
    ) -> None:
        if obj is None:  # one I/O contract: never a silent no-op (as the Spark IO manager)
            raise dg.Failure(
                f"{table_name(context.asset_key)} returned None to the model IO manager: return "
                "a DataFrame or MonthlyModels, or write the table yourself, return "
                "dg.MaterializeResult and declare no IO manager"
            )
        months = partition_months(context)
        root = self.warehouse.table(table_name(context.asset_key))
        if isinstance(obj, FrameWithTables):
            for name, frame in obj.tables.items():
                location = self.warehouse.table(f"{obj.folder}/{name}")
                write_arrow_months(location, to_arrow(frame), months)
            obj = obj.frame
        if isinstance(obj, pd.DataFrame):
            write_arrow_months(root, to_arrow(obj), months)
            context.add_output_metadata(
                {"table_uri": dg.MetadataValue.path(root.uri), "rows": len(obj)}
            )
            return
        if not isinstance(obj, MonthlyModels) or set(obj) != set(months):
            raise dg.Failure(f"expected one model per month {months}, got {type(obj).__name__}")
        tables: dict[str, list[pd.DataFrame]] = {}
        signing_key = self._signing_key()
        for month, output in obj.items():
            output.manifest = save_model(
                model_location(root, month),
                output.model,
                asset=table_name(context.asset_key),
                month=month,
                signing_key=signing_key,
            )
            for name, frame in output.tables.items():
                tables.setdefault(name, []).append(frame.assign(month=month))
        for name, frames in tables.items():
            write_arrow_months(
                root.child(name), to_arrow(pd.concat(frames, ignore_index=True)), months
            )
        context.add_output_metadata(
            {
                "model_uri": dg.MetadataValue.path(model_location(root, months[-1]).uri),
                "model_sha256": obj[months[-1]].manifest["sha256"],
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | MonthlyModels:
        months = partition_months(context)
        root = self.warehouse.table(table_name(context.asset_key))
        if context.dagster_type.typing_type is pd.DataFrame:
            return read_months(root, months).to_pandas()
        loaded = MonthlyModels()
        names = self._table_names(root)  # one listing of the asset's tables, not one per month
        signing_key = self._signing_key()
        for month in months:
            model, manifest = load_model(
                model_location(root, month),
                asset=table_name(context.asset_key),
                month=month,
                signing_key=signing_key,
            )
            tables = {
                name: read_months(root.child(name), [month]).to_pandas().drop(columns="month")
                for name in names
            }
            loaded[month] = ModelOutput(model=model, tables=tables, manifest=manifest)
        return loaded

    @staticmethod
    def _table_names(root: Location) -> list[str]:
        import pyarrow.fs as pafs

        infos = root.filesystem().get_file_info(pafs.FileSelector(root.path, allow_not_found=True))
        return sorted(
            i.base_name
            for i in infos
            if i.type == pafs.FileType.Directory
            and i.base_name != "model"
            and table_exists(root.child(i.base_name))
        )
