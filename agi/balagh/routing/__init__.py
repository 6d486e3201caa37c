"""Routing, the pure core: where a call goes, from what we know of it and the table.

Build the call's Facts once (make_facts, in the table's zone), then
`decide(facts, table) -> Decision`, or `explain(facts, table) -> Explanation` for the
dry run behind `balagh routes explain`. No I/O and no YAML here: reading the table
and the prefix table from files is balagh.routing.load.
"""

from balagh.routing.decide import decide
from balagh.routing.explain import Explanation, RuleVerdict, explain
from balagh.routing.facts import Facts, QueueState, make_facts
from balagh.routing.location import Location, emirate_at, locate
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
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE, normalise_number

__all__ = [
    "DANGER_ANSWER",
    "DANGER_QUESTION",
    "DEFAULT_COUNTRY_CODE",
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
    "decide",
    "emirate_at",
    "explain",
    "locate",
    "make_facts",
    "normalise_number",
]
