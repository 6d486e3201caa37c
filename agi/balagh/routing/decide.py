"""Where a call goes: one pure function over the answers and the table.

`match` only finds the rule; `decide` acts on it (queue and priority), so
`balagh routes explain` can show the rule without re-implementing the logic.
"""

from __future__ import annotations

from collections.abc import Mapping

from balagh.routing.model import DANGER_ANSWER, DANGER_QUESTION, DEFAULT_RULE, Decision, Rule, Table

__all__ = ["decide", "in_danger", "match"]


def match(answers: Mapping[str, str], table: Table) -> Rule | None:
    """The first rule, in table order, whose conditions all hold; None if none does."""
    return next((rule for rule in table.rules if rule.matches(answers)), None)


def in_danger(answers: Mapping[str, str]) -> bool:
    return answers.get(DANGER_QUESTION) == DANGER_ANSWER


def decide(answers: Mapping[str, str], table: Table) -> Decision:
    """Queue and priority for a call. Total: unanswered or unmatched calls go to the default."""
    rule = match(answers, table)
    danger = in_danger(answers)
    priority = table.danger_priority if danger else table.normal_priority
    if rule is not None and rule.priority is not None:
        # A rule may raise a call's priority but never put a caller in danger below it.
        priority = max(rule.priority, table.danger_priority) if danger else rule.priority
    if rule is None:
        return Decision(rule=DEFAULT_RULE, queue=table.default_queue, priority=priority)
    return Decision(rule=rule.name, queue=rule.queue, priority=priority)
