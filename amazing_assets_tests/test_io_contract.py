"""One I/O contract, checked on the whole graph (unit tier: no Spark, no run).

An asset either writes its own table, declares no IO manager and returns
``dg.MaterializeResult`` (with its check results), or returns its value to one of the code
location's IO managers, which refuse a ``None``: a value is never silently dropped.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator

import dagster as dg
import pytest

from amazing_assets.definitions import defs
from amazing_assets.lib.io_managers import SparkDeltaIOManager
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.model_io_manager import ModelIOManager
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource

DEFAULT_IO_MANAGER = "io_manager"
"""The key of an output that names no IO manager (the location binds none under it)."""
RESULT_TYPES = {"MaterializeResult", "AssetCheckResult"}


def executable_assets() -> list[dg.AssetsDefinition]:
    return [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable]


def location_io_managers() -> set[str]:
    return {
        key
        for key, resource in (defs.resources or {}).items()
        if isinstance(resource, dg.IOManager | dg.IOManagerDefinition | dg.ConfigurableIOManager)
    }


def body_statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the function's own body (not of functions or lambdas defined inside it)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield child
        yield from body_statements(child)


def called_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return None


def result_problems(fn: Callable, keys: set[str]) -> list[str]:
    """What in ``fn`` (an asset body that writes its own tables) breaks the contract: a value
    returned or yielded that is not a MaterializeResult or a check result, a ``yield from`` of a
    function not annotated to give check results, or an asset key with no MaterializeResult."""
    fn = inspect.unwrap(fn)
    [definition] = ast.parse(textwrap.dedent(inspect.getsource(fn))).body
    problems: list[str] = []
    materialized: set[str | None] = set()
    for node in body_statements(definition):
        if isinstance(node, ast.Return) and node.value is not None:
            if called_name(node.value) != "MaterializeResult":
                problems.append(f"returns {ast.unparse(node.value)}")
        elif isinstance(node, ast.Yield):
            if called_name(node.value) not in RESULT_TYPES:
                problems.append(f"yields {ast.unparse(node.value) if node.value else None}")
        elif isinstance(node, ast.YieldFrom):
            source = called_name(node.value)
            target = fn.__globals__.get(source) if source else None
            returns = str(inspect.signature(target).return_annotation) if target else ""
            if "AssetCheckResult" not in returns:
                problems.append(f"yields from {ast.unparse(node.value)}")
        if (
            isinstance(node, ast.Return | ast.Yield)
            and called_name(node.value) == "MaterializeResult"
        ):
            assert isinstance(node.value, ast.Call)
            named = {k.arg: k.value for k in node.value.keywords}
            key = named.get("asset_key")
            materialized.add(key.value if isinstance(key, ast.Constant) else None)
    expected = keys if len(keys) > 1 else {None}
    problems += [f"no MaterializeResult for {k or 'the asset'}" for k in expected - materialized]
    return problems


def test_the_location_binds_its_io_managers_and_no_default() -> None:
    """The two IO managers are the location's only ones and none is bound under the default
    key, so "declares no IO manager" means exactly the assets that write their own tables."""
    assert location_io_managers() == {"spark_delta_io_manager", "model_io_manager"}
    assert DEFAULT_IO_MANAGER not in (defs.resources or {})


def test_every_asset_writes_its_own_table_or_hands_it_to_one_of_the_io_managers() -> None:
    io_managers = location_io_managers()
    writes_itself = {}
    for assets_def in executable_assets():
        keys = {
            k.to_user_string(): assets_def.get_io_manager_key_for_asset_key(k)
            for k in assets_def.keys
        }
        assert set(keys.values()) <= io_managers | {DEFAULT_IO_MANAGER}, keys
        if DEFAULT_IO_MANAGER in keys.values():
            assert set(keys.values()) == {DEFAULT_IO_MANAGER}, keys  # never half and half
            fn = assets_def.op.compute_fn.decorated_fn  # type: ignore[union-attr]
            writes_itself[assets_def.op.name] = result_problems(fn, set(keys))
    assert writes_itself == {"raw_events": [], "clean_events": []}


def test_the_result_rule_catches_what_it_should() -> None:
    """The checker itself, on bodies that break the contract."""

    def returns_a_frame(context):
        frame = context.frame()
        return frame

    def yields_nothing_for_one_key(context):
        yield dg.MaterializeResult(asset_key="a")

    def well_formed(context):
        def helper():
            return 1  # a nested function's return is not the asset's

        helper()
        yield dg.MaterializeResult(asset_key="a")
        yield dg.MaterializeResult(asset_key="b")

    assert result_problems(returns_a_frame, {"a"}) == [
        "returns frame",
        "no MaterializeResult for the asset",
    ]
    assert result_problems(yields_nothing_for_one_key, {"a", "b"}) == ["no MaterializeResult for b"]
    assert result_problems(well_formed, {"a", "b"}) == []


@pytest.fixture
def io_managers(tmp_path) -> dict[str, dg.ConfigurableIOManager]:
    warehouse = WarehouseResource(
        warehouse_uri=str(tmp_path / "warehouse"), landing_uri=str(tmp_path / "landing")
    )
    key = PseudonymizationKeyResource(key="k" * 32)
    return {
        "spark_delta_io_manager": SparkDeltaIOManager(warehouse=warehouse, spark=SparkResource()),
        "model_io_manager": ModelIOManager(warehouse=warehouse, pseudonymization_key=key),
    }


@pytest.mark.parametrize("name", ["spark_delta_io_manager", "model_io_manager"])
def test_an_asset_returning_none_to_an_io_manager_fails(name, io_managers, tmp_path) -> None:
    """The model IO manager already failed on None, but as "expected one model per month, got
    NoneType" (or, unpartitioned, "warehouse tables are monthly"): it now refuses it first and
    says what to do, as the Spark IO manager does (seen failing before the change)."""
    context = dg.build_output_context(asset_key=dg.AssetKey("some_table"))
    with pytest.raises(dg.Failure, match=r"returned None to the .* IO manager.*MaterializeResult"):
        io_managers[name].handle_output(context, None)
    assert not (tmp_path / "warehouse" / "some_table").exists()
