"""Filters on string columns still work after delta-rs rewrote a table (an erasure's delete).

delta-rs writes the rewritten files' strings as ``string_view``; a pyarrow filter pushed down to
such a file fails ("no kernel matching input types (string, string_view)"). The e2e erasure test
found it in ``action_outcomes`` after an erasure; the app's customer lookup and
``purchase_days`` filter the same way.
"""

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from amazing_assets.lib.delta_tables import filtered_rows, scan_months, write_arrow_months
from amazing_assets.lib.storage import Location


def rewritten_table(tmp_path) -> Location:
    location = Location.parse(str(tmp_path / "t"))
    rows = pa.table(
        {
            "user_key": ["a", "b", "c", "d"],
            "event_type": ["purchase", "view", "purchase", "view"],
            "price": [1.0, 2.0, 3.0, 4.0],
            "month": ["2019-10"] * 4,
        }
    )
    write_arrow_months(location, rows, ["2019-10"])
    DeltaTable(location.table_uri).delete("user_key = 'b'")  # what an erasure does
    return location


def test_a_pushed_down_string_filter_fails_on_a_rewritten_table(tmp_path):
    """The defect itself, so the test below keeps meaning something if pyarrow changes."""
    location = rewritten_table(tmp_path)
    with pytest.raises(pa.ArrowNotImplementedError, match="string_view"):
        scan_months(location, ["2019-10"]).to_table(filter=pc.field("event_type") == "purchase")


def test_filtered_rows_reads_a_rewritten_table(tmp_path):
    location = rewritten_table(tmp_path)
    purchases = filtered_rows(
        location, ["2019-10"], pc.field("event_type") == "purchase", ["user_key"], ["event_type"]
    )
    assert purchases.schema.field("user_key").type == pa.string()
    assert sorted(purchases.column("user_key").to_pylist()) == ["a", "c"]
    nobody = filtered_rows(
        location, ["2019-10"], pc.field("user_key") == "zz", ["price"], ["user_key"]
    )
    assert nobody.num_rows == 0
