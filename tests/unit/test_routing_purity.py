"""The routing core stays pure: no YAML, no files, no store, no Asterisk.

balagh.routing (model, conditions, facts, decide, explain, location, numbers) is the
function from a call's facts and a table to a decision; reading YAML is
balagh.routing.load. These tests keep it that way: by the source of every core module
(what it imports) and by what importing the core actually loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import balagh.routing

CORE_DIR = Path(balagh.routing.__file__).resolve().parent
LOAD_DIR = CORE_DIR / "load"
CORE_FILES = sorted(path for path in CORE_DIR.rglob("*.py") if LOAD_DIR not in path.parents)
CORE_MODULES = sorted(
    ".".join(("balagh", *path.relative_to(CORE_DIR.parent).with_suffix("").parts))
    .removesuffix(".__init__")
    for path in CORE_FILES)

# What the core must never import; everything else it imports must be its own or stdlib.
# Libraries that are data and arithmetic only (no I/O, no event loop): phonenumbers is the
# numbering plans that turn a caller's number into E.164 (routing/numbers.py).
PURE_LIBRARIES = ("__future__", "phonenumbers")
FORBIDDEN = ("yaml", "balagh.config.yamlsrc", "balagh.routing.load", "balagh.store", "balagh.ari",
             "balagh.ami")


def _imports(path: Path) -> list[str]:
    """Every module the file imports, `from a import b` counted as both a and a.b."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import; write it absolute"
            assert node.module is not None
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_core_is_the_modules_it_should_be():
    assert {"balagh.routing", "balagh.routing.model", "balagh.routing.conditions",
            "balagh.routing.facts", "balagh.routing.decide", "balagh.routing.explain",
            "balagh.routing.location", "balagh.routing.numbers"} <= set(CORE_MODULES)
    assert not any(_within(name, "balagh.routing.load") for name in CORE_MODULES)


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda path: str(path.relative_to(CORE_DIR)))
def test_a_core_module_imports_only_the_core_and_the_standard_library(path):
    for name in _imports(path):
        assert not any(_within(name, bad) for bad in FORBIDDEN), f"{path.name} imports {name}"
        top = name.partition(".")[0]
        if top == "balagh":  # its own modules, or the words it shares with the store
            assert _within(name, "balagh.routing") or _within(name, "balagh.vocabulary"), \
                f"{path.name} imports {name}"
        else:
            assert top in sys.stdlib_module_names or top in PURE_LIBRARIES, \
                f"{path.name} imports {name}, neither routing nor the standard library"


def _loaded_after_importing(modules: list[str]) -> list[str]:
    """The forbidden modules a fresh interpreter has loaded after importing `modules`
    (this one has long since imported yaml for other tests)."""
    script = (
        "import sys\n"
        f"for name in {modules!r}:\n"
        "    __import__(name)\n"
        f"bad = {FORBIDDEN!r}\n"
        "print('\\n'.join(sorted(n for n in sys.modules\n"
        "                        if any(n == b or n.startswith(b + '.') for b in bad))))\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.split()


def test_importing_the_core_loads_no_yaml_store_or_asterisk_client():
    assert _loaded_after_importing(CORE_MODULES) == []


def test_importing_the_loader_does_load_yaml():
    # The check above is not vacuous: the YAML half loads exactly what the core must not.
    loaded = _loaded_after_importing(["balagh.routing.load"])
    assert "yaml" in loaded and "balagh.routing.load" in loaded


def test_the_checks_would_catch_a_loader_import(tmp_path):
    # The AST check sees both spellings of importing the YAML half.
    bad = tmp_path / "bad.py"
    bad.write_text("import yaml\nfrom balagh.routing import load\n"
                   "from balagh.routing.load.table import load_table\n")
    found = _imports(bad)
    assert "yaml" in found
    assert "balagh.routing.load" in found
    assert "balagh.routing.load.table" in found
