"""Conditions on a queue's live state (from AMI); unknown without a snapshot of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from balagh.routing.facts import Facts

__all__ = ["QueueTest", "QueueTestKind"]

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
