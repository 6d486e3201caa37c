"""The conditions a rule can test, as small immutable values over one call's Facts.

Each condition answers two questions, and both decide() and explain() ask them:
`value(facts)` -> True, False, or None when the fact it needs is unknown (no time given,
no live state for a queue, no location); `describe(facts)` -> the fact in words, e.g.
"age is adult, not child". Unknown is not false: `not` of unknown stays unknown, and a
rule is taken only when its condition is known to hold, so a missing AMI snapshot can
never send callers down a "no agents" overflow rule by accident (three-valued logic).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType
from typing import Literal, Protocol

from balagh.routing.facts import Facts

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

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # datetime.weekday() order


class Condition(Protocol):
    def value(self, facts: Facts) -> bool | None: ...
    def describe(self, facts: Facts) -> str: ...


def _either(values: Iterable[str], limit: int = 4) -> str:
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


# --- answers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    question: str
    values: frozenset[str]

    def value(self, facts: Facts) -> bool:
        # A missing answer is a known fact ("not answered"), not an unknown one.
        return facts.answers.get(self.question) in self.values

    def describe(self, facts: Facts) -> str:
        got = facts.answers.get(self.question)
        if got is None:
            return f"{self.question} was not answered (needs {_either(self.values)})"
        if got in self.values:
            return f"{self.question} is {got}"
        return f"{self.question} is {got}, not {_either(self.values)}"


def answers_condition(when: Mapping[str, str | Iterable[str]]) -> All:
    """The shorthand {question: answer or [answers]} as a condition: all of them."""
    return All(tuple(
        Answer(question, frozenset([values] if isinstance(values, str) else values))
        for question, values in when.items()
    ))


# --- the caller's number -----------------------------------------------------------------------

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
            return f"the caller's number is withheld (needs {_either(self.numbers)})"
        if facts.caller in self.numbers:
            return f"caller is {facts.caller}"
        return f"caller {facts.caller} is not {_either(self.numbers)}"


@dataclass(frozen=True)
class CallerPrefix:
    prefixes: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.caller is not None and facts.caller.startswith(tuple(self.prefixes))

    def describe(self, facts: Facts) -> str:
        if facts.caller is None:
            return f"the caller's number is withheld (needs {_either(self.prefixes)}...)"
        if self.value(facts):
            prefix = next(p for p in sorted(self.prefixes) if facts.caller.startswith(p))
            return f"caller {facts.caller} starts with {prefix}"
        return f"caller {facts.caller} does not start with {_either(self.prefixes)}"


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


# --- the clock ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Calendar:
    """A named list of dated holidays: date -> name ('' when the YAML gave none)."""

    name: str
    days: Mapping[date, str] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", MappingProxyType(dict(self.days)))


@dataclass(frozen=True)
class Holiday:
    calendar: Calendar

    def value(self, facts: Facts) -> bool | None:
        return None if facts.now is None else facts.now.date() in self.calendar.days

    def describe(self, facts: Facts) -> str:
        name = self.calendar.name
        if facts.now is None:
            return f"the date is unknown (holiday in calendar {name}?)"
        day = facts.now.date()
        if day in self.calendar.days:
            label = self.calendar.days[day] or "a holiday"
            return f"{day.isoformat()} is {label} in calendar {name}"
        return f"{day.isoformat()} is not a holiday in calendar {name}"


@dataclass(frozen=True)
class TimeWindow:
    """From `start` (included) to `end` (excluded); wraps midnight when end <= start."""

    start: time
    end: time

    def value(self, facts: Facts) -> bool | None:
        if facts.now is None:
            return None
        now = facts.now.time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def describe(self, facts: Facts) -> str:
        window = f"between {self.start:%H:%M} and {self.end:%H:%M}"
        if facts.now is None:
            return f"the time is unknown (needs {window})"
        verb = "is" if self.value(facts) else "is not"
        return f"time {facts.now:%H:%M} {verb} {window}"


@dataclass(frozen=True)
class Days:
    days: frozenset[int]  # datetime.weekday(): 0 = Monday

    def value(self, facts: Facts) -> bool | None:
        return None if facts.now is None else facts.now.weekday() in self.days

    def describe(self, facts: Facts) -> str:
        wanted = " or ".join(DAY_NAMES[day] for day in sorted(self.days))
        if facts.now is None:
            return f"the day is unknown (needs {wanted})"
        today = DAY_NAMES[facts.now.weekday()]
        return f"day is {today}" if self.value(facts) else f"day is {today}, not {wanted}"


# --- location ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocationEmirate:
    emirates: frozenset[str]

    def value(self, facts: Facts) -> bool | None:
        emirate = facts.location.emirate
        return None if emirate is None else emirate in self.emirates

    def describe(self, facts: Facts) -> str:
        where = facts.location
        if where.emirate is None:
            return f"the location is unknown (needs {_either(self.emirates)})"
        said = f"location is {where.emirate} (from {where.source})"
        return said if where.emirate in self.emirates else f"{said}, not {_either(self.emirates)}"


@dataclass(frozen=True)
class LocationSource:
    sources: frozenset[str]

    def value(self, facts: Facts) -> bool:
        return facts.location.source in self.sources

    def describe(self, facts: Facts) -> str:
        said = f"location source is {facts.location.source}"
        return said if self.value(facts) else f"{said}, not {_either(self.sources)}"


# --- live queue state --------------------------------------------------------------------------

QueueTestKind = Literal[
    "no_agents", "none_available", "callers_waiting_at_least", "longest_wait_at_least"]


@dataclass(frozen=True)
class QueueTest:
    queue: str
    kind: QueueTestKind
    amount: int  # a threshold, or 1/0 for the yes/no tests

    def value(self, facts: Facts) -> bool | None:
        state = facts.queues.get(self.queue)
        if state is None:
            return None
        if self.kind == "no_agents":
            return (state.logged_in == 0) == bool(self.amount)
        if self.kind == "none_available":
            return (state.available == 0) == bool(self.amount)
        if self.kind == "callers_waiting_at_least":
            return state.callers >= self.amount
        return state.longest_wait >= self.amount

    def describe(self, facts: Facts) -> str:
        state = facts.queues.get(self.queue)
        name = f"queue {self.queue}"
        if state is None:
            return f"{name}: live state unknown"
        if self.kind == "no_agents":
            return f"{name} has {_count(state.logged_in, 'agent')} logged in"
        if self.kind == "none_available":
            return f"{name} has {_count(state.available, 'agent')} available"
        held = self.value(facts)
        if self.kind == "callers_waiting_at_least":
            said = f"{name} has {_count(state.callers, 'caller')} waiting"
            return said if held else f"{said}, fewer than {self.amount}"
        said = f"{name}'s longest wait is {state.longest_wait:.0f} s"
        return said if held else f"{said}, less than {self.amount} s"


def _count(number: int, noun: str) -> str:
    if number == 0:
        return f"no {noun}"
    return f"{number} {noun}" + ("" if number == 1 else "s")


# --- structure, for validation -----------------------------------------------------------------

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
