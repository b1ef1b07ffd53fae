"""The security docs name the tests that prove each promise; every name must be a real test.

The threat model lists a refusal only when a test shows it, so a cited test that was renamed or
never existed turns a promise into an unverified one while the page still reads as proven. This
test reads the cited names (`file::test`, `::test` for the previous file, `file::*`) and checks
each against the test functions defined in ``amazing_assets_tests/``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "amazing_assets_tests"
DOCS = ("docs/threat-model.md", "docs/privacy-and-security.md")

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_CITATION = re.compile(r"^(test_\w+)?::(test_\w+|\*)$")
_BARE_TEST = re.compile(r"^test_\w+$")


def defined_tests(path: Path) -> set[str]:
    """Names of the test functions (module level or in classes) defined in one test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def citations(text: str) -> list[tuple[str, str]]:
    """(test file, test name or ``*``) for every citation in ``text``, in order.

    ``::name`` refers to the file cited last. A bare ``test_…`` span names a test file when such
    a file exists, and a test function otherwise (then it must exist in some test file).
    """
    found: list[tuple[str, str]] = []
    last_file = ""
    for span in _CODE_SPAN.findall(text):
        span = span.strip()
        match = _CITATION.match(span)
        if match:
            file_name = match.group(1) or last_file
            if not file_name:
                raise AssertionError(f"`{span}` names no test file before it")
            last_file = file_name
            found.append((file_name, match.group(2)))
        elif _BARE_TEST.match(span):
            if (TESTS / f"{span}.py").is_file():
                last_file = span
                found.append((span, "*"))
            else:
                found.append(("", span))
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_every_test_the_security_docs_cite_exists(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    cited = citations(text)
    all_names = {name for path in TESTS.glob("test_*.py") for name in defined_tests(path)}
    missing = []
    for file_name, name in cited:
        if not file_name:
            if name not in all_names:
                missing.append(name)
            continue
        path = TESTS / f"{file_name}.py"
        if not path.is_file():
            missing.append(f"{file_name} (no such file)")
        elif name != "*" and name not in defined_tests(path):
            missing.append(f"{file_name}::{name}")
    assert not missing, f"{doc} cites tests that do not exist: {missing}"


def test_the_citation_reader_finds_what_it_should() -> None:
    text = (
        "`test_redaction::test_a`, `::test_b` and `test_erasure::*`; "
        "`test_c` alone, `test_redaction` alone then `::test_d`; `not_a_test` and `test_x::`"
    )
    assert citations(text) == [
        ("test_redaction", "test_a"),
        ("test_redaction", "test_b"),
        ("test_erasure", "*"),
        ("", "test_c"),
        ("test_redaction", "*"),
        ("test_redaction", "test_d"),
    ]
