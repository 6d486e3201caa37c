"""No import circle between the files of agi/balagh, and no loop between its packages.

Read from the source with ast (every import in a file, those inside functions and
TYPE_CHECKING blocks too): a file that imports another is an edge, `from a.b import c`
an edge to a/b/c.py when that is a module, else to a/b. A circle is a strongly
connected set of files. A circle that is known and not yet undone is listed in
KNOWN_CIRCLES with why; any other fails the test, and so does a listed one that has gone
(take it off the list).
"""

from __future__ import annotations

import ast
from pathlib import Path

import balagh

PACKAGE_DIR = Path(balagh.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent

# Circles left for later, each as the sorted tuple of its modules. Empty: none is known.
KNOWN_CIRCLES: set[tuple[str, ...]] = set()


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def module_files() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `path` imports."""
    found: set[str] = set()
    anchor = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = anchor.split(".")[:len(anchor.split(".")) - node.level + 1]
                base = ".".join(filter(None, (*up, base)))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return (found & known) - {module}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: imported(module, path, known) for module, path in files.items()}


def circles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.add(tuple(sorted(members)))
    return found


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "balagh.ari.call" in graph["balagh.ari.tell"]
    assert "balagh.ari.router" in graph["balagh.supervise.entry"]


def test_a_circle_is_found_when_there_is_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == {("a", "b", "c")}


def test_no_import_circle_between_files() -> None:
    found = circles(import_graph())
    new = found - KNOWN_CIRCLES
    assert not new, "import circles between files:\n" + "\n".join(" <-> ".join(c) for c in new)
    gone = KNOWN_CIRCLES - found
    assert not gone, f"no longer circles, take them off KNOWN_CIRCLES: {gone}"


def package_of(module: str) -> str:
    """balagh.ivr.flow -> ivr; balagh.say (a top-level module) -> say."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = {package_of(module): set() for module in graph}
    for module, imports in graph.items():
        packages[package_of(module)] |= {package_of(other) for other in imports}
    return {package: used - {package} for package, used in packages.items()}


def test_a_package_loop_is_found_when_there_is_one() -> None:
    graph = {"balagh.a.x": {"balagh.b.y"}, "balagh.b.y": set(), "balagh.b.z": {"balagh.a.w"},
             "balagh.a.w": set()}
    assert circles(package_graph(graph)) == {("a", "b")}


def test_no_import_loop_between_packages() -> None:
    """Data flows one way: a package that imports another is never imported back by it,
    directly or round about (the words both need go to balagh/vocabulary.py)."""
    found = circles(package_graph(import_graph()))
    assert not found, "packages importing each other:\n" + "\n".join(
        " <-> ".join(loop) for loop in sorted(found))
