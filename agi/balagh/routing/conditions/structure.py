"""Conditions as trees, for validation and lint: walking them, and provable shadowing."""

from __future__ import annotations

from collections.abc import Iterator

from balagh.routing.conditions.answers import Answer
from balagh.routing.conditions.base import All, AnyOf, Condition, Not
from balagh.routing.conditions.caller import CallerNumber
from balagh.routing.conditions.clock import Days
from balagh.routing.conditions.place import LocationEmirate

__all__ = ["conjuncts", "nodes", "shadows"]


def nodes(condition: Condition) -> Iterator[Condition]:
    """Every condition in the tree, combinators included, depth first."""
    yield condition
    if isinstance(condition, All | AnyOf):
        for item in condition.items:
            yield from nodes(item)
    elif isinstance(condition, Not):
        yield from nodes(condition.item)


def conjuncts(condition: Condition) -> list[Condition]:
    """The parts that must all hold: nested `all`s flattened."""
    if isinstance(condition, All):
        return [part for item in condition.items for part in conjuncts(item)]
    return [condition]


def _implies(stronger: Condition, weaker: Condition) -> bool:
    """True only when `stronger` holding provably makes `weaker` hold."""
    if stronger == weaker:
        return True
    if isinstance(stronger, Answer) and isinstance(weaker, Answer):
        return stronger.question == weaker.question and stronger.values <= weaker.values
    if isinstance(stronger, Days) and isinstance(weaker, Days):
        return stronger.days <= weaker.days
    if isinstance(stronger, LocationEmirate) and isinstance(weaker, LocationEmirate):
        return stronger.emirates <= weaker.emirates
    if isinstance(stronger, CallerNumber) and isinstance(weaker, CallerNumber):
        return stronger.numbers <= weaker.numbers
    return False


def shadows(earlier: Condition, later: Condition) -> bool:
    """True if every call `later` takes is provably taken by `earlier` first.

    Conservative: each part of `earlier` must follow from one part of `later` (the same
    condition, or an answer/day/emirate/number set it narrows). Anything cleverer could
    refuse a table that is in fact fine.
    """
    later_parts = conjuncts(later)
    return all(any(_implies(part, need) for part in later_parts) for need in conjuncts(earlier))
