"""The conditions a rule can test, as small immutable values over one call's Facts.

Each condition answers two questions, and both decide() and explain() ask them:
`value(facts)` -> True, False, or None when the fact it needs is unknown (no time given,
no live state for a queue, no location); `describe(facts)` -> the fact in words, e.g.
"age is adult, not child". Unknown is not false: `not` of unknown stays unknown, and a
rule is taken only when its condition is known to hold, so a missing AMI snapshot can
never send callers down a "no agents" overflow rule by accident (three-valued logic).

One module per kind of fact (answers, caller, clock, place, queues), the combinators
in base, and tree walks for validation in structure; import them all from here.
"""

from balagh.routing.conditions.answers import Answer, answers_condition
from balagh.routing.conditions.base import All, AnyOf, Condition, Not
from balagh.routing.conditions.caller import CallerList, CallerNumber, CallerPrefix, CallerWithheld
from balagh.routing.conditions.clock import DAY_NAMES, Calendar, Days, Holiday, TimeWindow
from balagh.routing.conditions.place import LocationEmirate, LocationSource
from balagh.routing.conditions.queues import QueueTest
from balagh.routing.conditions.structure import conjuncts, nodes, shadows

__all__ = [
    "DAY_NAMES",
    "All",
    "Answer",
    "AnyOf",
    "Calendar",
    "CallerList",
    "CallerNumber",
    "CallerPrefix",
    "CallerWithheld",
    "Condition",
    "Days",
    "Holiday",
    "LocationEmirate",
    "LocationSource",
    "Not",
    "QueueTest",
    "TimeWindow",
    "answers_condition",
    "conjuncts",
    "nodes",
    "shadows",
]
