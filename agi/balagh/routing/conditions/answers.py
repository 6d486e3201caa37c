"""Conditions on the caller's keypad answers, and the {question: answer(s)} shorthand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from balagh.routing.conditions.base import All, either
from balagh.routing.facts import Facts

__all__ = ["Answer", "answers_condition"]


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
            return f"{self.question} was not answered (needs {either(self.values)})"
        if got in self.values:
            return f"{self.question} is {got}"
        return f"{self.question} is {got}, not {either(self.values)}"


def answers_condition(when: Mapping[str, str | Iterable[str]]) -> All:
    """The shorthand {question: answer or [answers]} as a condition: all of them."""
    return All(tuple(
        Answer(question, frozenset([values] if isinstance(values, str) else values))
        for question, values in when.items()
    ))
