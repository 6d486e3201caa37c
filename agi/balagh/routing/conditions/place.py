"""Conditions on where the caller probably is: the emirate, and how we know it."""

from __future__ import annotations

from dataclasses import dataclass

from balagh.routing.conditions.base import either
from balagh.routing.facts import Facts

__all__ = ["LocationEmirate", "LocationSource"]


@dataclass(frozen=True)
class LocationEmirate:
    emirates: frozenset[str]

    def value(self, facts: Facts) -> bool | None:
        emirate = facts.location.emirate
        return None if emirate is None else emirate in self.emirates

    def describe(self, facts: Facts) -> str:
        where = facts.location
        if where.emirate is None:
            return f"the location is unknown (needs {either(self.emirates)})"
        said = f"location is {where.emirate} (from {where.source})"
        return said if where.emirate in self.emirates else f"{said}, not {either(self.emirates)}"


@dataclass(frozen=True)
class LocationSource:
    sources: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.location.source in self.sources

    def describe(self, facts: Facts) -> str:
        said = f"location source is {facts.location.source}"
        return said if self.value(facts) else f"{said}, not {either(self.sources)}"
