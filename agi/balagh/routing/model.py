"""The routing table as data: queues, ordered rules, priorities (config/routing.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from balagh.routing.conditions import Calendar, Condition, answers_condition, shadows
from balagh.routing.facts import Facts
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE
from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

__all__ = [
    "DANGER_ANSWER",
    "DANGER_QUESTION",
    "DEFAULT_RULE",
    "DEFAULT_TIMEZONE",
    "DEFAULT_WAIT",
    "Decision",
    "OverflowStep",
    "RoutingWarning",
    "Rule",
    "Table",
]

# Decision.rule when no rule matched; rules may not take this name.
DEFAULT_RULE = "default"
DEFAULT_WAIT = 90                 # seconds in a queue before the next overflow step
DEFAULT_TIMEZONE = "Asia/Dubai"   # the hotline's clock for time, day and holiday conditions

# What overflow_spec() may contain: the dialplan splits it with CUT on '|' and ':'.
_SPEC = re.compile(r"[A-Za-z0-9+_.:|-]*")


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class OverflowStep:
    """Where a caller goes next when the queue before times out, is empty or unstaffed."""

    kind: Literal["queue", "number"]
    target: str               # a queue name, or an E.164 number
    wait: int | None = None   # seconds there before the next step; None = no limit / dial default

    def spec(self) -> str:
        return f"{self.kind}:{self.target}" + ("" if self.wait is None else f":{self.wait}")


@dataclass(frozen=True)
class Rule:
    name: str
    # What the call must be like; a mapping {question: answer(s)} is the answer shorthand.
    when: Condition = field(hash=False)
    queue: str
    priority: int | None = None  # overrides the table's priority for this rule
    line: int | None = field(default=None, compare=False)  # YAML line, for messages
    announce: str | None = None  # prompt id played to the caller before the transfer
    wait: int | None = None      # seconds in `queue` before overflow; None = the table's
    overflow: tuple[OverflowStep, ...] = ()  # as written; decide() completes the chain

    def __post_init__(self) -> None:
        if isinstance(self.when, Mapping):
            object.__setattr__(self, "when", answers_condition(self.when))

    def matches(self, facts: Facts | Mapping[str, str]) -> bool:
        if not isinstance(facts, Facts):
            facts = Facts(answers=facts)
        return self.when.value(facts) is True  # unknown (None) is not a match

    def shadows(self, later: Rule) -> bool:
        """True if every call `later` would match is already caught by this rule."""
        return shadows(self.when, later.when)


@dataclass(frozen=True)
class RoutingWarning:
    """Something legal but suspicious in a table; `routes check --strict` fails on it."""

    path: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.message}"


@dataclass(frozen=True)
class Table:
    queues: tuple[str, ...]
    rules: tuple[Rule, ...]
    default_queue: str
    danger_priority: int = 10
    normal_priority: int = 0
    source: Path | None = None
    timezone: str = DEFAULT_TIMEZONE
    wait: int = DEFAULT_WAIT
    country_code: str = DEFAULT_COUNTRY_CODE  # the country of national numbers
    lists: Mapping[str, frozenset[str]] = field(default_factory=_empty, hash=False)
    calendars: Mapping[str, Calendar] = field(default_factory=_empty, hash=False)
    warnings: tuple[RoutingWarning, ...] = field(default=(), compare=False)
    # Read from the tz database once, here, so decide() itself never touches a file.
    zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))

    def prompts_used(self) -> list[str]:
        """Announcement prompts the rules play (for `balagh sounds check`)."""
        return list(dict.fromkeys(rule.announce for rule in self.rules if rule.announce))


@dataclass(frozen=True)
class Decision:
    rule: str      # name of the matching rule, or 'default'
    queue: str
    priority: int  # QUEUE_PRIO: higher is answered first
    announce: str | None = None  # prompt to play before the transfer
    wait: int = 0  # seconds in `queue` before overflow[0]; 0 = no limit (empty chain)
    overflow: tuple[OverflowStep, ...] = ()  # ends at the default queue when not empty

    def overflow_spec(self) -> str:
        """The chain for the dialplan: steps joined by '|', each kind:target[:wait].

        "queue:social-welfare:60|number:+97165555555|queue:general"; "" for no chain.
        """
        spec = "|".join(step.spec() for step in self.overflow)
        if not _SPEC.fullmatch(spec):  # guarded by the loader's name checks; never trust
            raise ValueError(f"overflow spec has characters the dialplan cannot split: {spec!r}")
        return spec
