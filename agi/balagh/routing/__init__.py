"""Routing: the table as data (model), loading it (loader), and the pure decide()."""

from balagh.routing.decide import act, decide, facts_for, in_danger, match, match_facts
from balagh.routing.explain import Explanation, RuleVerdict, explain
from balagh.routing.facts import Facts, QueueState
from balagh.routing.loader import load_table
from balagh.routing.location import Location, emirate_at, locate
from balagh.routing.locations_loader import load_locations
from balagh.routing.model import (
    DANGER_ANSWER,
    DANGER_QUESTION,
    DEFAULT_RULE,
    Decision,
    OverflowStep,
    RoutingWarning,
    Rule,
    Table,
)
from balagh.routing.numbers import normalise_number

__all__ = [
    "DANGER_ANSWER",
    "DANGER_QUESTION",
    "DEFAULT_RULE",
    "Decision",
    "Explanation",
    "Facts",
    "Location",
    "OverflowStep",
    "QueueState",
    "RoutingWarning",
    "Rule",
    "RuleVerdict",
    "Table",
    "act",
    "decide",
    "emirate_at",
    "explain",
    "facts_for",
    "in_danger",
    "load_locations",
    "load_table",
    "locate",
    "match",
    "match_facts",
    "normalise_number",
]
