"""Read a rule's `when:` into conditions, checking every name against the table and menu.

A `when` mapping holds conditions, all of which must hold. Its keys are condition
keywords (all, any, not, answer, caller, holiday, time, days, location, queue) or,
as shorthand, IVR question ids: `{age: child}` is `{answer: {age: child}}`.

This package: parse (the mapping itself, all/any/not, answers, and the keyword table),
and one module per other kind (caller, clock, place, queues), as in routing.conditions.
"""

from balagh.routing.load.when.context import WhenContext
from balagh.routing.load.when.parse import KEYWORDS, parse_when

__all__ = ["KEYWORDS", "WhenContext", "parse_when"]
