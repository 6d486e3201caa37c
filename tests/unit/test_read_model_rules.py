"""The read side has one home: balagh.readmodel.

Reading reports (typed queries, search, timeline lines, CSV/JSON rows, masking, the
statistics' scans, health's reads) lives in balagh.readmodel; SQL text lives only there
and in balagh.store (so a second engine has one place to go). These tests read every
module's source with ast: what it imports, and which string literals hold SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import balagh

ROOT = Path(balagh.__file__).resolve().parent
READ_MODEL = ROOT / "readmodel"
SQL_HOMES = (ROOT / "store", READ_MODEL)
# A statement's first word as SQL writes it (capitals), as a whole word.
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b")
# Another database altogether: console.sqlite3 (users, sessions, the console's audit),
# which only the console opens. The rule is about the report database.
# console.sqlite3, the console's own file: its users (accounts.py) and agents' dispositions.
OWN_DATABASE = {ROOT / "console" / "accounts.py", ROOT / "console" / "dispositions.py"}
# Features the read model must not lean on: it sits below them and beside the store.
FEATURES = ("ivr", "ari", "ami", "supervise", "handover", "console", "cli")


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def _imports(path: Path) -> list[str]:
    """Every balagh module the file imports (relative imports resolved), `from a import b`
    counted as both a and a.b."""
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[:len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _sql_literals(path: Path) -> list[str]:
    """String literals (f-strings' text parts too) that hold an SQL statement's word."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SQL_WORD.search(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def _importers(folder: str) -> list[Path]:
    return _files(ROOT / folder)


@pytest.mark.parametrize("path", _importers("console"), ids=lambda p: p.name)
def test_the_console_imports_no_cli_module(path):
    assert not [name for name in _imports(path) if _within(name, "balagh.cli")]


@pytest.mark.parametrize("path", _importers("stats"), ids=lambda p: p.name)
def test_statistics_import_no_cli_module(path):
    assert not [name for name in _imports(path) if _within(name, "balagh.cli")]


@pytest.mark.parametrize("path", _files(READ_MODEL), ids=lambda p: p.name)
def test_the_read_model_imports_no_feature(path):
    leaning = [name for name in _imports(path)
               if any(_within(name, f"balagh.{feature}") for feature in FEATURES)]
    assert not leaning


def test_sql_text_lives_only_in_the_store_and_the_read_model():
    outside = [path for path in _files(ROOT) if path not in OWN_DATABASE
               and not any(home in path.parents for home in SQL_HOMES)]
    assert [literal for path in outside for literal in _sql_literals(path)] == []


def test_the_rules_see_sql_and_imports_where_they_are():
    # The checks find what they look for: the store's own SQL and the console's imports.
    assert _sql_literals(ROOT / "store" / "calls.py")
    assert all(_sql_literals(path) for path in OWN_DATABASE)  # an exception still needed
    assert "balagh.console.pages" in _imports(ROOT / "console" / "web.py")
    assert READ_MODEL.is_dir()
