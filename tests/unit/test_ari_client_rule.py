"""One ARI client: the rule, by the source of every module of the package.

- Only balagh.ari imports an ari-py-family package (asyncari, asyncswagger11), and no
  module imports their private names, subclasses their classes (to override their
  insides) or reaches into their underscore attributes.
- One HTTP library: no module imports httpx; ARI is reached through balagh.ari's client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import balagh

PACKAGE_DIR = Path(balagh.__file__).resolve().parent
ARI_DIR = PACKAGE_DIR / "ari"
FAMILY = ("asyncari", "asyncswagger11")
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def _of_family(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FAMILY)


def _family_names(tree: ast.AST) -> tuple[set[str], list[str]]:
    """The local names bound to the family's modules and objects; every import of it."""
    bound: set[str] = set()
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _of_family(alias.name):
                    imported.append(alias.name)
                    bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and _of_family(node.module):
            for alias in node.names:
                imported.append(f"{node.module}.{alias.name}")
                bound.add(alias.asname or alias.name)
    return bound, imported


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def breaches(source: str, where: str, *, in_ari: bool) -> list[str]:
    """How the module `where` (its `source`) breaks the rule (nothing: it keeps it)."""
    tree = ast.parse(source, where)
    bound, imported = _family_names(tree)
    found: list[str] = []
    if imported and not in_ari:
        found.append(f"{where}: imports {imported[0]} outside balagh.ari")
    found += [f"{where}: imports the private {name}" for name in imported
              if any(part.startswith("_") for part in name.split("."))]
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            found += [f"{where}: {node.name} subclasses the family's {ast.unparse(base)}"
                      for base in node.bases if _root(base) in bound]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and _root(node.value) in bound:
            found.append(f"{where}: reaches into {ast.unparse(node)}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"{where}: imports {module} (ARI goes through balagh.ari's client)"
                      for module in modules if module.split(".")[0] == "httpx"]
    return found


def test_the_rule_holds_in_every_module() -> None:
    assert len(SOURCES) > 100  # the package itself, not an empty folder
    assert [line for path in SOURCES
            for line in breaches(path.read_text(), str(path.relative_to(PACKAGE_DIR.parent)),
                                 in_ari=ARI_DIR in path.parents)] == []


def test_the_rule_sees_each_kind_of_breach() -> None:
    # Shaped like the connection of before (ari/connect.py overriding asyncari's `_run`),
    # placed outside ari/: every breach is named.
    source = ("import httpx\nfrom asyncari.client import Client\n"
              "from asyncswagger11 import _private\n"
              "class Events(Client):\n    pass\n"
              "def peek(c: Client) -> object:\n    return Client._run\n")
    found = breaches(source, "balagh/health/probe.py", in_ari=False)
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports asyncari.client.Client outside balagh.ari",
        "imports the private asyncswagger11._private",
        "imports httpx (ARI goes through balagh.ari's client)",
        "Events subclasses the family's Client",
        "reaches into Client._run",
    ]
