"""Routing: the table as data (model), loading it (loader), and the pure decide()."""

from balagh.routing.decide import decide, in_danger, match
from balagh.routing.loader import load_table
from balagh.routing.model import (
    DANGER_ANSWER,
    DANGER_QUESTION,
    DEFAULT_RULE,
    Decision,
    Rule,
    Table,
)

__all__ = [
    "DANGER_ANSWER",
    "DANGER_QUESTION",
    "DEFAULT_RULE",
    "Decision",
    "Rule",
    "Table",
    "decide",
    "in_danger",
    "load_table",
    "match",
]
