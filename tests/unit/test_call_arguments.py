"""A call with more than six positional arguments names them (`Person(..., None, None, now, now, 1)`
reads as a guess): past six, the arguments go by keyword."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"
MAX_POSITIONAL = 6



MODULES = sorted(p for p in CHALICELIB.rglob("*.py"))


def long_calls(source: str) -> list[str]:
    """`line: callee (n positional)` for every call with more than MAX_POSITIONAL positional arguments."""
    return [f"{node.lineno}: {ast.unparse(node.func)} ({len(node.args)} positional)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and len(node.args) > MAX_POSITIONAL]


def test_the_check_sees_a_long_call_and_passes_keywords():
    assert long_calls("Person(a, b, c, d, e, f, g)") == ["1: Person (7 positional)"]
    assert long_calls("Person(a, b, c, d, e, f, g=g, h=h)") == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(CHALICELIB).as_posix())
def test_no_call_has_more_than_six_positional_arguments(path):
    found = long_calls(path.read_text())
    assert not found, f"{path.relative_to(ROOT)}: pass these by keyword: {found}"
