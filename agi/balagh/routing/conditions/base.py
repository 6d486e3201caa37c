"""What every condition is (the Condition protocol), and the combinators all, any, not.

Three-valued: each combinator passes unknown (None) through as the logic requires, so
`not` of unknown stays unknown (see balagh.routing.conditions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from balagh.routing.facts import Facts

__all__ = ["All", "AnyOf", "Condition", "Not", "either"]


class Condition(Protocol):
    def value(self, facts: Facts) -> bool | None: ...
    def describe(self, facts: Facts) -> str: ...


def either(values: Iterable[str], limit: int = 4) -> str:
    """'a or b or c' for a description, the first `limit` in order and how many more."""
    ordered = sorted(values)
    if len(ordered) > limit:
        return " or ".join(ordered[:limit]) + f" or {len(ordered) - limit} more"
    return " or ".join(ordered)


# --- combinators -------------------------------------------------------------------------------

@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]

    def value(self, facts: Facts) -> bool | None:
        unknown = False
        for item in self.items:
            result = item.value(facts)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True

    def describe(self, facts: Facts) -> str:
        if not self.items:
            return "takes every call"
        value = self.value(facts)
        if value:
            return "; ".join(item.describe(facts) for item in self.items)
        # Why not: the first condition that decides it (false, else unknown), in the
        # admin's order; a false one is the real reason even after an unknown one.
        first = next(item for item in self.items if item.value(facts) is value)
        return first.describe(facts)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]

    def value(self, facts: Facts) -> bool | None:
        unknown = False
        for item in self.items:
            result = item.value(facts)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False

    def describe(self, facts: Facts) -> str:
        held = next((item for item in self.items if item.value(facts) is True), None)
        if held is not None:
            return held.describe(facts)
        return "none of: " + " / ".join(item.describe(facts) for item in self.items)


@dataclass(frozen=True)
class Not:
    item: Condition

    def value(self, facts: Facts) -> bool | None:
        result = self.item.value(facts)
        return None if result is None else not result

    def describe(self, facts: Facts) -> str:
        # The inner fact says it all: "2026-12-02 is National Day in calendar uae".
        return self.item.describe(facts)
