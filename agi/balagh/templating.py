"""The one way Balagh renders HTML: Jinja2 with autoescape on, so every value a page shows
(a query key, a caller's answer, a user name, a queue's name) is escaped by the engine,
never by hand. The console's pages and the report pack both come from here.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def environment(folder: Path) -> Environment:
    """Templates from `folder` (package data beside the module that renders them); a name a
    template uses but is not given is an error, not an empty string."""
    return Environment(loader=FileSystemLoader(folder), autoescape=True, trim_blocks=True,
                       lstrip_blocks=True, undefined=StrictUndefined)


__all__ = ["environment"]
