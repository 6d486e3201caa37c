"""Small modules with one concern: no module of agi/balagh over 450 lines, no function over
60, unless a comment at the function's top says why it is longer (its first body line)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import balagh

PACKAGE = Path(balagh.__file__).resolve().parent
FILES = sorted(PACKAGE.rglob("*.py"))
MODULE_LINES = 450
FUNCTION_LINES = 60


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_is_at_most_450_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES, f"{path.relative_to(PACKAGE)}: {lines} lines"


def long_functions_without_a_reason(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[str] = []
    for node in ast.walk(ast.parse(source, str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length <= FUNCTION_LINES:
            continue
        body = node.body
        if len(body) > 1 and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # after the docstring
        following = lines[node.lineno - 1:body[0].lineno]  # the head, to the first statement
        if not any(line.strip().startswith("# Over 60 lines:") for line in following):
            found.append(f"{node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_function_is_at_most_60_lines_or_says_why(path: Path) -> None:
    assert not long_functions_without_a_reason(path), \
        f"{path.relative_to(PACKAGE)}: start it with '# Over 60 lines: why'"
