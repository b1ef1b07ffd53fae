"""Too few rows kept: the month is rejected before clean_events changes, and the failure says why.

The kept-share bar is a gate inside clean_events (a blocking check runs only after the output is
stored, which would leave the month half-replaced): raw_events, written earlier in the run, is
rolled back, nothing downstream runs, and the message names the drops by reason.
"""

import dagster as dg
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.demo import failure_summary
from amazing_assets.lib.delta_tables import month_row_counts
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location

pytestmark = pytest.mark.slow


def test_kept_share_failure_blocks_the_month_and_explains(tmp_path, spark):
    generate_month(
        GenerationSpec(month="2019-10", events=8_000, users=800, seed=4), tmp_path / "landing"
    )
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": str(tmp_path / "landing"),
            "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
        }
    )
    defs = build_definitions(settings)
    # Operators tightened the bar: any dropped row now rejects the month.
    result = dg.materialize(
        [*defs.assets],  # the whole chain, as a backfill from the UI would run it
        partition_key="2019-10-01",
        resources={**defs.resources, "quality": QualityResource(min_kept_share=0.9999)},
        raise_on_error=False,
    )
    assert not result.success
    message = failure_summary(result)
    assert "month 2019-10 rejected: cleaning keeps" in message
    assert "at least 100% must remain" in message
    assert "bot_user" in message and "cart_burst" in message and "What to do" in message
    materialized = {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert materialized == {"raw_events"}  # written, then rolled back: the month has no rows
    warehouse = Location.parse(settings.warehouse_uri)
    assert month_row_counts(table_location(warehouse, "raw_events")) == {}
    assert not result.get_asset_check_evaluations() or all(
        c.asset_key.to_user_string() == "raw_events" for c in result.get_asset_check_evaluations()
    )
