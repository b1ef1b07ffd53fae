"""The code location loads, with every asset on the monthly partitions."""

from amazing_assets.definitions import defs
from amazing_assets.partitions import monthly_partitions
from amazing_assets_tests.pipeline_run import ASSETS


def test_definitions_load_with_every_asset_monthly():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == ASSETS
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def == monthly_partitions
    assert defs.resolve_job_def("monthly_segments") is not None
