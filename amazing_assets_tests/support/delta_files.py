"""What a Delta table's storage holds vs what its log references (local or S3)."""

import pyarrow.fs as pafs

from amazing_assets.lib.delta_tables import open_table
from amazing_assets.lib.storage import Location


def files_on_store(location: Location) -> set[str]:
    """Data files under the table, relative to its root."""
    selector = pafs.FileSelector(location.path, recursive=True)
    return {
        i.path[len(location.path) + 1 :]
        for i in location.filesystem().get_file_info(selector)
        if i.path.endswith(".parquet")
    }


def files_in_log(location: Location) -> set[str]:
    """Data files referenced by any version of the table (time travel included)."""
    latest = open_table(location).version()
    return {
        path
        for version in range(latest + 1)
        for path in open_table(location, version)
        .get_add_actions(flatten=True)
        .column("path")
        .to_pylist()
    }
