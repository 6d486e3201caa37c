"""The routing table as data: queues, ordered rules, priorities (config/routing.yaml)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

__all__ = ["DANGER_ANSWER", "DANGER_QUESTION", "DEFAULT_RULE", "Decision", "Rule", "Table"]

# The answer that lifts a call to the danger priority, whatever rule matched.
DANGER_QUESTION = "danger"
DANGER_ANSWER = "yes"
# Decision.rule when no rule matched; rules may not take this name.
DEFAULT_RULE = "default"


def _frozen_when(when: Mapping[str, str | Iterable[str]]) -> Mapping[str, frozenset[str]]:
    # A bare string is one accepted value, not a set of characters.
    return MappingProxyType({
        question: frozenset([values] if isinstance(values, str) else values)
        for question, values in when.items()
    })


@dataclass(frozen=True)
class Rule:
    name: str
    # question id -> accepted answers; every entry must hold (AND); empty = always matches
    when: Mapping[str, frozenset[str]] = field(hash=False)
    queue: str
    priority: int | None = None  # overrides the table's priority for this rule
    line: int | None = field(default=None, compare=False)  # YAML line, for messages

    def __post_init__(self) -> None:
        object.__setattr__(self, "when", _frozen_when(self.when))

    def matches(self, answers: Mapping[str, str]) -> bool:
        # A missing answer is None, which no accepted-value set contains.
        return all(answers.get(question) in accepted for question, accepted in self.when.items())

    def shadows(self, later: Rule) -> bool:
        """True if every call `later` would match is already caught by this rule."""
        return all(
            question in later.when and accepted >= later.when[question]
            for question, accepted in self.when.items()
        )


@dataclass(frozen=True)
class Table:
    queues: tuple[str, ...]
    rules: tuple[Rule, ...]
    default_queue: str
    danger_priority: int = 10
    normal_priority: int = 0
    source: Path | None = None


@dataclass(frozen=True)
class Decision:
    rule: str      # name of the matching rule, or 'default'
    queue: str
    priority: int  # QUEUE_PRIO: higher is answered first
