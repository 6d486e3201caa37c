"""Where a call goes: one pure function over what we know of the call and the table.

Callers build the call's Facts once (make_facts, in the table's zone) and ask
`decide(facts, table)`. Inside, `match` only finds the rule and `act` turns a rule into
a Decision (queue, priority, announcement, wait, overflow chain); `explain` calls the
very same `match` and `act`, so a dry run can never disagree with a live call.
"""

from __future__ import annotations

from collections.abc import Mapping

from balagh.routing.facts import Facts
from balagh.routing.model import (
    DANGER_ANSWER,
    DANGER_QUESTION,
    DEFAULT_RULE,
    Decision,
    OverflowStep,
    Rule,
    Table,
)

__all__ = ["act", "decide", "in_danger", "match"]


def decide(facts: Facts, table: Table) -> Decision:
    """Where the call goes. Total: unanswered or unmatched calls go to the default queue.

    Without `facts.now` the time, day and holiday conditions are unknown; without a queue
    in `facts.queues` its live-state conditions are unknown. A rule is taken only when its
    condition is known to hold. `facts` must be made in the table's zone (make_facts with
    table.zone), so the clock conditions read the hotline's local time.
    """
    return act(match(facts, table), facts, table)


def match(facts: Facts, table: Table) -> Rule | None:
    """The first rule, in table order, whose condition is known to hold; None if none is."""
    return next((rule for rule in table.rules if rule.matches(facts)), None)


def in_danger(answers: Mapping[str, str]) -> bool:
    return answers.get(DANGER_QUESTION) == DANGER_ANSWER


def act(rule: Rule | None, facts: Facts, table: Table) -> Decision:
    """The Decision for a matched rule (or None: the default queue)."""
    danger = in_danger(facts.answers)
    priority = table.danger_priority if danger else table.normal_priority
    if rule is not None and rule.priority is not None:
        # A rule may raise a call's priority but never put a caller in danger below it.
        priority = max(rule.priority, table.danger_priority) if danger else rule.priority
    if rule is None:
        return Decision(rule=DEFAULT_RULE, queue=table.default_queue, priority=priority)
    chain = overflow_chain(rule, table)
    return Decision(rule=rule.name, queue=rule.queue, priority=priority, announce=rule.announce,
                    wait=_wait(rule, table) if chain else 0, overflow=chain)


def _wait(rule: Rule, table: Table) -> int:
    return rule.wait if rule.wait is not None else table.wait


def overflow_chain(rule: Rule, table: Table) -> tuple[OverflowStep, ...]:
    """The rule's steps with waits filled in, ending at the default queue (no time limit):
    routing never ends at a queue nobody serves. Empty when the rule's queue is the default."""
    if rule.queue == table.default_queue:
        return ()
    steps: list[OverflowStep] = []
    for step in rule.overflow:
        if step.kind == "queue" and step.target == table.default_queue:
            break  # the last stop: callers wait there until answered
        wait = step.wait if step.wait is not None or step.kind == "number" else table.wait
        steps.append(OverflowStep(step.kind, step.target, wait))
    steps.append(OverflowStep("queue", table.default_queue, None))
    return tuple(steps)
