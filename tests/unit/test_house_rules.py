"""The floors of the house: the store knows no feature, settings sit below the store, and
the vocabulary both share sits at the bottom (docs/architecture.md, "Rules the house keeps").

Read from the source of every module (its imports, relative ones resolved), so a rule
broken anywhere, at the top of a file or inside a function, fails here with its name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import balagh

PACKAGE = Path(balagh.__file__).resolve().parent

# The store may use the settings, the vocabulary, the report's status words, the
# privacy rules and the bounded waits; never a feature (what a call, a supervisor or a
# unit does).
STORE_MAY_IMPORT = ("balagh.store", "balagh.config", "balagh.vocabulary", "balagh.status",
                    "balagh.privacy", "balagh.timeouts")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def balagh_imports(path: Path) -> set[str]:
    """The balagh modules `path` imports (`from a import b` counted as a)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "balagh" or name.startswith("balagh.")}


def files_of(package: str) -> list[Path]:
    folder = PACKAGE / package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{package}.py"]


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


@pytest.mark.parametrize("path", files_of("store"), ids=lambda p: p.name)
def test_the_store_imports_no_feature(path: Path) -> None:
    strays = sorted(name for name in balagh_imports(path)
                    if not within(name, STORE_MAY_IMPORT))
    assert not strays, f"{module_name(path)} imports {strays}: put the shared word in " \
                       "balagh/vocabulary.py"


@pytest.mark.parametrize("path", files_of("config"), ids=lambda p: p.name)
def test_settings_sit_below_the_store(path: Path) -> None:
    above = sorted(name for name in balagh_imports(path)
                   if not within(name, ("balagh.config",)))
    assert not above, f"{module_name(path)} imports {above}"


def test_the_vocabulary_imports_nothing_of_balagh() -> None:
    assert balagh_imports(PACKAGE / "vocabulary.py") == set()


def test_the_bounded_waits_import_nothing_of_balagh() -> None:
    assert balagh_imports(PACKAGE / "timeouts.py") == set()


def test_no_module_waits_with_asyncio_wait_for() -> None:
    """Python 3.11's wait_for can lose a cancellation (timeouts.py): `within` instead."""
    users = sorted(module_name(path) for path in PACKAGE.rglob("*.py")
                   if path.name != "timeouts.py"
                   and "asyncio.wait_for(" in path.read_text(encoding="utf-8"))
    assert not users, f"{users} use asyncio.wait_for: use balagh.timeouts.within"


def test_the_rules_see_imports_where_there_are_some() -> None:
    """The reader finds relative and absolute imports (else every rule passes vacuously)."""
    assert "balagh.store.writer" in balagh_imports(PACKAGE / "store" / "reports.py")
    assert "balagh.vocabulary" in balagh_imports(PACKAGE / "store" / "daily.py")
