"""The code location loads, with every asset on the monthly partitions; its graph is reviewed."""

import ast
import importlib
import json
import os
from pathlib import Path

import dagster as dg

from amazing_assets.definitions import build_definitions, defs
from amazing_assets.lib.partitions import monthly_partitions
from amazing_assets.lib.settings import load_settings
from amazing_assets_tests.support.pipeline_run import ASSETS

WRITTEN_BY_OTHER_STEPS = {"rejected_events", "erasure_audit", "erased_customers"}
"""Tables written by the step that refuses a month and by the erasure job: assets of the graph
(with lineage), not computed by a step of their own."""
UNPARTITIONED = {"erasure_audit", "erased_customers"}
"""One row per erasure request or erased customer, not per month."""


def test_definitions_load_with_every_asset_monthly():
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == (
        ASSETS | WRITTEN_BY_OTHER_STEPS
    )
    for key in graph.get_all_asset_keys():
        if key.to_user_string() not in UNPARTITIONED:
            assert graph.get(key).partitions_def == monthly_partitions
    job = defs.resolve_job_def("monthly_segments")
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == ASSETS


def is_warehouse(node: ast.expr) -> bool:
    """``warehouse``, ``self.warehouse`` or ``<resource>.warehouse()``: the warehouse's root."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Name) and node.id == "warehouse") or (
        isinstance(node, ast.Attribute) and node.attr == "warehouse"
    )


def tables_named_in_code() -> dict[str, list[str]]:
    """Every table name the product code locates in the warehouse, with where: the argument of
    ``table_location(warehouse, NAME)``, ``warehouse.table(NAME)`` (the resource) or
    ``warehouse.child(NAME, ...)`` (the bypass), resolved in its module (a literal, a constant,
    an f-string of constants). Run-time values (an asset key, a loop variable) are skipped:
    those names come from the graph itself."""
    package = Path(__file__).resolve().parents[1] / "amazing_assets"
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        namespace: dict | None = None
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "table_location" and len(node.args) > 1:
                argument = node.args[1]
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in {"table", "child"}
                and is_warehouse(func.value)
            ):
                argument = node.args[0]
            else:
                continue
            if any(isinstance(n, ast.Call | ast.Starred) for n in ast.walk(argument)):
                continue  # computed at run time (e.g. from the asset key): nothing to evaluate
            if namespace is None:
                namespace = dict(vars(importlib.import_module(module.removesuffix(".__init__"))))
            try:
                name = eval(compile(ast.Expression(argument), str(path), "eval"), namespace)
            except NameError:
                continue  # a parameter or a local variable
            if isinstance(name, str):
                found.setdefault(name, []).append(f"{module}:{node.lineno}")
    return found


def test_every_table_the_pipeline_writes_is_an_asset_with_lineage():
    """Before: the erasure appended to ``erased_customers`` (through ``warehouse.child``) and
    raw_events read it, but it was no asset, so the lineage had a hole this test, which then
    listed the known tables, could not see. Now the tables are found in the code."""
    from amazing_assets.lib.tables import APP_TABLES, RAW_ZONE_TABLES, SIDE_TABLE_FOLDERS

    graph = defs.resolve_asset_graph()
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    named = tables_named_in_code()
    assert {"raw_events", "clean_events", "rejected_events", "erased_customers"} <= set(named)
    not_assets = {
        name: where
        for name, where in named.items()
        if name.split("/")[0] not in assets  # kmeans_model/assignments: kmeans_model's output
    }
    assert not_assets == {}
    written = {t.split("/")[0] for t in RAW_ZONE_TABLES | set(APP_TABLES)}
    assert {SIDE_TABLE_FOLDERS.get(t, t) for t in written} <= assets
    assert set(SIDE_TABLE_FOLDERS.values()) <= assets

    parents = {
        name: {p.to_user_string() for p in graph.get(dg.AssetKey(name)).parent_keys}
        for name in WRITTEN_BY_OTHER_STEPS
    }
    assert parents["rejected_events"] == {"raw_events", "clean_events"}
    assert {"raw_events", "clean_events", "kmeans_model"} <= parents["erasure_audit"]
    assert parents["erased_customers"] == set()  # appended on request, from no other asset
    assert "erased_customers" in {
        p.to_user_string() for p in graph.get(dg.AssetKey("raw_events")).parent_keys
    }


SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def describe_definitions(definitions: dg.Definitions) -> dict:
    """What a change to the graph must not alter by accident: assets (group, code version,
    owners, upstream assets with their partition mapping, checks and whether they block),
    jobs, sensors and schedules."""
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        spec_by_name = {
            s.name: s for s in definitions.resolve_assets_def(key).check_specs if s.asset_key == key
        }
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "code_version": node.code_version,
            "owners": sorted(node.owners),
            "has_description": bool(node.description),
            "upstream": {
                parent.to_user_string(): type(mapping).__name__ if mapping else "identity"
                for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string())
                for mapping in [node.partition_mappings.get(parent)]
            },
            "checks": {
                name: "blocking" if spec_by_name[name].blocking else "warn"
                for name in sorted(spec_by_name)
            },
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in definitions.jobs or []),
        "sensors": sorted(s.name for s in definitions.sensors or []),
        "schedules": sorted(s.name for s in definitions.schedules or []),
    }


def test_the_definitions_match_the_reviewed_snapshot():
    """An unintended change to the graph fails here. After an intended one, regenerate with
    ``UPDATE_SNAPSHOT=1 pytest amazing_assets_tests/test_definitions.py`` and review the diff."""
    current = describe_definitions(defs)
    if os.environ.get("UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_asset_has_an_owner_a_code_version_and_a_description():
    for name, asset in describe_definitions(defs)["assets"].items():
        assert asset["owners"] and asset["code_version"] and asset["has_description"], name


def test_the_settings_given_decide_the_feature_window(tmp_path):
    env = {"AMAZING_HOME": str(tmp_path), "AMAZING_FEATURE_WINDOW_MONTHS": "2"}
    assert build_definitions(load_settings(env)).resources["feature_window"].months == 2
    assert (
        build_definitions(load_settings({"AMAZING_HOME": str(tmp_path)}))
        .resources["feature_window"]
        .months
        == 3
    )


def test_no_asset_module_reads_the_environment_at_import():
    """Before: the features' asset module called load_settings() at import, so a bad variable
    broke every import of the assets (tests, tools) and the Settings given to build_definitions
    were ignored for the window. Only the code location's own ``defs`` reads the environment.
    (This test once globbed the old ``assets/`` and ``checks/`` folders, so after the move it
    checked nothing: it now walks every stage module and fails when it finds none.)"""
    import ast

    stages = Path(__file__).resolve().parents[1] / "amazing_assets" / "defs"
    modules = sorted(stages.rglob("*.py"))
    assert len(modules) > 20, modules
    for module in modules:
        tree = ast.parse(module.read_text())
        top_level = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
        calls = {
            node.func.id
            for statement in top_level
            for node in ast.walk(statement)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"load_settings", "getenv"}, module
        assert "os.environ" not in "".join(ast.unparse(n) for n in top_level), module


def test_modelling_defaults_have_one_owner():
    """Before: ModelingResource repeated ModelingConfig's defaults with other values (k 3-10
    and 20 k selection customers against 2-5 and 30 k), so the pipeline did not run the
    configuration the robustness benchmark measured."""
    from amazing_assets.defs.segments.modeling import ModelingConfig
    from amazing_assets.defs.segments.resources import ModelingResource

    assert ModelingResource().config() == ModelingConfig()
    assert ModelingResource(k_max=6).config().k_max == 6
