"""Conditions on the caller's number: withheld, exact numbers, prefixes, named lists."""

from __future__ import annotations

from dataclasses import dataclass

from balagh.routing.conditions.base import either
from balagh.routing.facts import Facts

__all__ = ["CallerList", "CallerNumber", "CallerPrefix", "CallerWithheld"]


@dataclass(frozen=True)
class CallerWithheld:
    def value(self, facts: Facts) -> bool:
        return facts.caller is None

    def describe(self, facts: Facts) -> str:
        if facts.caller is None:
            return "the caller's number is withheld"
        return f"caller {facts.caller} is not withheld"


@dataclass(frozen=True)
class CallerNumber:
    numbers: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.caller in self.numbers

    def describe(self, facts: Facts) -> str:
        if facts.caller is None:
            return f"the caller's number is withheld (needs {either(self.numbers)})"
        if facts.caller in self.numbers:
            return f"caller is {facts.caller}"
        return f"caller {facts.caller} is not {either(self.numbers)}"


@dataclass(frozen=True)
class CallerPrefix:
    prefixes: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.caller is not None and facts.caller.startswith(tuple(self.prefixes))

    def describe(self, facts: Facts) -> str:
        if facts.caller is None:
            return f"the caller's number is withheld (needs {either(self.prefixes)}...)"
        if self.value(facts):
            prefix = next(p for p in sorted(self.prefixes) if facts.caller.startswith(p))
            return f"caller {facts.caller} starts with {prefix}"
        return f"caller {facts.caller} does not start with {either(self.prefixes)}"


@dataclass(frozen=True)
class CallerList:
    name: str
    numbers: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.caller in self.numbers

    def describe(self, facts: Facts) -> str:
        if facts.caller is None:
            return f"the caller's number is withheld (list {self.name} needs a number)"
        if facts.caller in self.numbers:
            return f"caller {facts.caller} is in list {self.name}"
        return f"caller {facts.caller} is not in list {self.name}"
