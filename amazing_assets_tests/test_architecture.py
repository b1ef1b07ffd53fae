"""The layout's rules, read from the source: imports point one way, one module reads the
environment. Both are AST checks, so they need no Java and run in the unit tier."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "amazing_assets"
STAGES = (
    "ingestion",
    "cleaning",
    "features",
    "value",
    "segments",
    "measurement",
    "monitoring",
    "privacy",
)
"""Stages in data order: a stage may import the ones before it, never the ones after."""
ENVIRONMENT_OWNER = f"{PACKAGE}.lib.settings"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, ast.Module]:
    files = [*(ROOT / PACKAGE).rglob("*.py"), *(ROOT / "panel_app").rglob("*.py")]
    return {module_name(f): ast.parse(f.read_text(), filename=str(f)) for f in sorted(files)}


def imported_modules(tree: ast.Module, module: str) -> set[str]:
    """Every module ``tree`` imports, at the top or inside functions, made absolute."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def layer(module: str) -> tuple[str, int]:
    """(layer name, rank): a module may import modules of a lower or equal rank only."""
    parts = module.split(".")
    if parts[0] == "panel_app":
        return "panel_app", 50
    if parts[:2] == [PACKAGE, "lib"]:
        return "lib", 0
    if parts[:2] == [PACKAGE, "datagen"]:
        return "datagen", 1
    if parts[:2] == [PACKAGE, "defs"] and len(parts) > 2:
        return f"defs.{parts[2]}", 10 + STAGES.index(parts[2])
    if parts[:2] == [PACKAGE, "defs"]:
        return "defs", 10
    return "top", 100  # definitions, resources, demo: wiring that may see everything


def import_violations(modules: dict[str, ast.Module]) -> list[str]:
    problems = []
    for module, tree in modules.items():
        name, rank = layer(module)
        for target in sorted(imported_modules(tree, module)):
            if target.startswith("amazing_assets_tests"):
                problems.append(f"{module} imports test code {target}")
                continue
            if not target.startswith((f"{PACKAGE}.", "panel_app.")):
                continue
            target_name, target_rank = layer(target)
            if target_rank > rank or (name == "panel_app" and target_name == "top"):
                problems.append(f"{module} ({name}) imports {target} ({target_name})")
    return problems


def environment_readers(modules: dict[str, ast.Module]) -> list[str]:
    """Modules other than the settings module that touch ``os.environ``/``os.getenv``."""
    readers = []
    for module, tree in modules.items():
        if module == ENVIRONMENT_OWNER:
            continue
        for node in ast.walk(tree):
            touched = (
                isinstance(node, ast.Attribute)
                and node.attr in {"environ", "getenv", "environb", "putenv"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(a.name in {"environ", "getenv"} for a in node.names)
            )
            if touched:
                readers.append(f"{module}:{node.lineno}")
    return readers


def test_imports_point_one_way() -> None:
    assert import_violations(product_modules()) == []


def test_only_the_settings_module_reads_the_environment() -> None:
    assert environment_readers(product_modules()) == []


@pytest.mark.parametrize(
    ("module", "source", "refused"),
    [
        ("amazing_assets.lib.storage", "from amazing_assets.defs.cleaning import rules", True),
        (
            "amazing_assets.defs.cleaning.assets",
            "import amazing_assets.defs.segments.modeling",
            True,
        ),
        (
            "amazing_assets.defs.segments.assets",
            "from amazing_assets.defs.cleaning import x",
            False,
        ),
        ("amazing_assets.defs.value.assets", "def f():\n    from amazing_assets import demo", True),
        ("panel_app.data", "from amazing_assets.definitions import defs", True),
        ("panel_app.data", "from amazing_assets.defs.segments.prediction import f", False),
        ("amazing_assets.lib.tables", "from ..defs.features import features", True),
        ("amazing_assets.lib.tables", "from . import storage", False),
        ("amazing_assets.demo", "from amazing_assets_tests.support import populations", True),
    ],
)
def test_the_import_rule_catches_what_it_should(module: str, source: str, refused: bool) -> None:
    """The checker itself: a wrong-way import (top level, inside a function, relative) is found."""
    assert bool(import_violations({module: ast.parse(source)})) is refused


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\nx = os.environ.get('A')", 1),
        ("import os\nos.environ.setdefault('A', 'b')", 1),
        ("import os\nx = os.getenv('A')", 1),
        ("from os import environ", 1),
        ("import os\nx = os.path.join('a', 'b')", 0),
    ],
)
def test_the_environment_rule_catches_what_it_should(source: str, expected: int) -> None:
    assert len(environment_readers({"amazing_assets.lib.spark": ast.parse(source)})) == expected


def test_a_unit_test_that_asks_for_spark_fails() -> None:
    """The unit tier's guard (conftest.py): no SparkSession, built by hand or by the project's
    builder, for a test that carries no JVM tier's marker."""
    from pyspark.sql import SparkSession

    from amazing_assets.lib.spark import build_spark_session

    with pytest.raises(RuntimeError, match="is a unit test"):
        SparkSession.builder.master("local[1]").getOrCreate()
    with pytest.raises(RuntimeError, match="is a unit test"):
        build_spark_session(master="local[1]")


PATH_REFERENCE = re.compile(r"(?<![\w./-])((?:[A-Za-z_][\w-]*/)+[A-Za-z_]\w*\.py)\b")
DOTTED_REFERENCE = re.compile(r"\b(amazing_assets(?:_tests)?(?:\.[A-Za-z_]\w*)+)")
OUTSIDE_REFERENCES = {"panel/auth.py", "tests/clv/models/test_beta_geo.py"}
"""Files of other projects the text cites on purpose (Panel's and pymc-marketing's sources)."""
LOGGER_NAMES = {"amazing_assets.shipping_test", "amazing_assets.x"}
"""Dotted names that are test loggers' names, not modules."""


def repository_texts() -> dict[str, str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {
        name: (ROOT / name).read_text(errors="replace")
        for name in tracked
        if name.endswith((".py", ".md", ".toml", ".yaml", ".yml", ".cfg"))
        and (ROOT / name).is_file()
    }


def defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def dangling_references(texts: dict[str, str], files: set[str]) -> list[str]:
    """Paths (``dir/module.py``) and dotted names (``amazing_assets.x.y``) that name nothing
    in the repository: what a move leaves behind in docstrings and docs."""
    problems = []
    for name, text in texts.items():
        if name == "amazing_assets_tests/test_architecture.py":
            continue  # this file's examples name missing paths on purpose
        for path in PATH_REFERENCE.findall(text):
            path = path.removeprefix("./")
            if path in OUTSIDE_REFERENCES or path.startswith("shared/"):
                continue  # ../shared is the benchmarks' reference, outside by design
            if not any(f == path or f.endswith(f"/{path}") for f in files):
                problems.append(f"{name}: {path}")
        for dotted in sorted(set(DOTTED_REFERENCE.findall(text)) - LOGGER_NAMES):
            parts = dotted.split(".")
            for end in range(len(parts), 0, -1):
                base = ROOT.joinpath(*parts[:end])
                module = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
                if module.is_file():
                    break
            rest = parts[end:]
            if rest and rest[0] not in defined_names(module) | {"__file__"}:
                problems.append(f"{name}: {dotted}")
    return problems


def test_every_path_and_module_the_repository_names_exists() -> None:
    """After a move, a docstring or a doc that still names the old place misleads the next
    reader (``segmentation/features.py`` after the features moved to ``defs/features/``)."""
    texts = repository_texts()
    assert dangling_references(texts, set(texts)) == []


def test_the_reference_rule_catches_what_it_should() -> None:
    files = {"amazing_assets/defs/features/features.py", "amazing_assets/lib/tables.py"}
    texts = {
        "a.py": "see ``segmentation/features.py`` and amazing_assets.segmentation.features",
        "b.md": "see `defs/features/features.py` and amazing_assets.lib.tables.table_location",
        "c.md": "amazing_assets.lib.tables.no_such_name",
    }
    assert dangling_references(texts, files) == [
        "a.py: segmentation/features.py",
        "a.py: amazing_assets.segmentation.features",
        "c.md: amazing_assets.lib.tables.no_such_name",
    ]


def test_test_helpers_live_in_support() -> None:
    """The tests folder holds test modules and conftest; whatever they share is in support/."""
    tests = ROOT / "amazing_assets_tests"
    loose = [
        p.name
        for p in sorted(tests.glob("*.py"))
        if not p.name.startswith("test_") and p.name not in {"__init__.py", "conftest.py"}
    ]
    assert loose == []
