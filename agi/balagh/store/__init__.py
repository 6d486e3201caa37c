"""Reports in SQLite: schema and migrations, the single writer, the call path's writes,
its own reads and retention: parts that ReportStore opens and hands out, each to its
consumer (reading for people: balagh.readmodel)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .queries import Answer, Delivery, Report
    from .reports import ReportStore

__all__ = ["Answer", "Delivery", "Report", "ReportStore"]

# Imported on first use: the CLI's commands import store modules (schema, permissions)
# that do not need the queries, which are slow to import.
_LAZY = {"Answer": "queries", "Delivery": "queries", "Report": "queries",
         "ReportStore": "reports"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
