"""One catalogue for every word people read: balagh/texts.py.

The console, the statistics and the report pack take their Arabic and English words from
it, and HTML only from Jinja2 templates with autoescape (balagh/templating.py). These
tests keep it so, from the source: Arabic letters nowhere else, no other dict of words
keyed by language, no escaping by hand, and the modules that show words import the
catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import balagh

PACKAGE = Path(balagh.__file__).resolve().parent
CATALOGUE = PACKAGE / "texts.py"
SOURCES = sorted(path for path in PACKAGE.rglob("*.py")
                 if path != CATALOGUE and "shipped" not in path.relative_to(PACKAGE).parts)
TEMPLATES = sorted(PACKAGE.rglob("templates/*.html"))
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# The modules that put words in front of people.
READERS = ("console/pages.py", "stats/pack.py", "cli/report_pack.py")


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_the_rule_sees_the_package():
    assert len(SOURCES) > 100 and CATALOGUE.exists() and len(TEMPLATES) >= 10


@pytest.mark.parametrize("path", SOURCES + TEMPLATES, ids=_name)
def test_no_arabic_outside_the_catalogue(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert not ARABIC.search(line), (
            f"{_name(path)}:{number}: Arabic text belongs in balagh/texts.py")


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_other_catalogue_of_words(path: Path):
    """No dict of Arabic words, and no dict keyed by language ("ar": ..., "en": ...)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Dict):
            continue
        keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
        assert not {"ar", "en"} <= keys, f"{_name(path)}:{node.lineno}: words by language"
        assert not any(ARABIC.search(s) for s in _strings(node)), (
            f"{_name(path)}:{node.lineno}: a dict of Arabic words")


@pytest.mark.parametrize("path", SOURCES, ids=_name)
def test_no_html_escaped_by_hand(path: Path):
    """Markup comes from templates, escaped by the engine: nobody calls html.escape."""
    assert not {"html", "html.escape", "markupsafe"} & _imports(path), _name(path)


@pytest.mark.parametrize("reader", READERS)
def test_the_console_statistics_and_report_pack_read_the_one_catalogue(reader: str):
    assert "balagh.texts" in _imports(PACKAGE / reader)


def test_the_pages_come_from_one_template_engine():
    for reader in ("console/pages.py", "stats/pack.py"):
        imports = _imports(PACKAGE / reader)
        assert "balagh.templating.environment" in imports, reader
        assert not any(name.startswith("jinja2") for name in imports), reader
