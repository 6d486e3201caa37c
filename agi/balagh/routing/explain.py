"""Why a call goes where it goes: the dry run behind `balagh routes explain`.

It runs the same match / act as decide(), on the same Facts, then asks every rule it
passed why it did not match (the first condition that failed, in words), so the
explanation can never disagree with a live call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from balagh.routing.decide import act, match
from balagh.routing.facts import Facts, QueueState
from balagh.routing.model import DEFAULT_RULE, Decision, OverflowStep, Table

__all__ = ["Explanation", "RuleVerdict", "explain"]

Outcome = Literal["match", "no", "unknown"]


@dataclass(frozen=True)
class RuleVerdict:
    rule: str
    line: int | None
    outcome: Outcome  # 'unknown': a fact the rule needs (time, queue state, location) is missing
    reason: str       # the first failing condition, or what held for the match


@dataclass(frozen=True)
class Explanation:
    facts: Facts
    timezone: str
    verdicts: tuple[RuleVerdict, ...]  # rules tried in order, up to and including the match
    decision: Decision
    holidays: tuple[str, ...] = ()  # "National Day (uae)" when the call's date is in a calendar

    @property
    def matched(self) -> RuleVerdict | None:
        last = self.verdicts[-1] if self.verdicts else None
        return last if last is not None and last.outcome == "match" else None

    def text(self) -> str:
        return "\n".join(_lines(self))


def explain(facts: Facts, table: Table) -> Explanation:
    """What decide(facts, table) decides, with every rule tried on the way and why."""
    rule = match(facts, table)
    verdicts: list[RuleVerdict] = []
    for candidate in table.rules:
        value = candidate.when.value(facts)
        outcome: Outcome = "match" if candidate is rule else "unknown" if value is None else "no"
        verdicts.append(RuleVerdict(candidate.name, candidate.line, outcome,
                                    candidate.when.describe(facts)))
        if candidate is rule:
            break
    holidays = tuple(
        f"{calendar.days[facts.now.date()] or 'holiday'} ({name})"
        for name, calendar in table.calendars.items()
        if facts.now is not None and facts.now.date() in calendar.days)
    return Explanation(facts, table.timezone, tuple(verdicts), act(rule, facts, table), holidays)


# --- text --------------------------------------------------------------------------------------

_MARK = {"match": "MATCH", "no": "no", "unknown": "unknown"}


def _lines(explanation: Explanation) -> list[str]:
    facts = explanation.facts
    answers = " ".join(f"{key}={value}" for key, value in sorted(facts.answers.items()))
    when = (f"{facts.now:%a %Y-%m-%d %H:%M} {explanation.timezone}" if facts.now
            else "unknown (time, day and holiday conditions cannot match)")
    if explanation.holidays:
        when += ", " + ", ".join(explanation.holidays)
    lines = [
        f"answers:  {answers or '(none)'}",
        f"caller:   {facts.caller or 'withheld'}",
        f"location: {facts.location}",
        f"time:     {when}",
        f"queues:   {_queues(facts.queues)}",
        "",
        "rules, top to bottom:",
    ]
    for verdict in explanation.verdicts:
        where = f" (line {verdict.line})" if verdict.line else ""
        lines.append(f"  {_MARK[verdict.outcome]:<8}{verdict.rule}{where}: {verdict.reason}")
    if not explanation.verdicts:
        lines.append("  (the table has no rules)")
    decision = explanation.decision
    if decision.rule == DEFAULT_RULE:
        lines.append(f"  no rule matched: the default queue {decision.queue}")
    lines += [
        "",
        f"decision: rule {decision.rule} -> queue {decision.queue}, "
        f"priority {decision.priority}",
        f"  announce: {decision.announce or '-'}",
        f"  path:     {_path(decision)}",
        f"  overflow spec: {decision.overflow_spec() or '(none)'}",
    ]
    return lines


def _queues(queues: Mapping[str, QueueState]) -> str:
    if not queues:
        return "unknown (live queue conditions cannot match)"
    return "; ".join(
        f"{name}: {state.logged_in} logged in, {state.available} available, "
        f"{state.callers} waiting, longest {state.longest_wait:.0f} s"
        for name, state in sorted(queues.items()))


def _path(decision: Decision) -> str:
    """The caller's way through the queues: each stop with how long before the next."""
    first = OverflowStep("queue", decision.queue, decision.wait if decision.overflow else None)
    return " -> ".join(_stop(step) for step in (first, *decision.overflow))


def _stop(step: OverflowStep) -> str:
    if step.kind == "number":
        return f"number {step.target}" + (f" ({step.wait} s)" if step.wait else "")
    return f"{step.target} ({step.wait} s)" if step.wait else f"{step.target} (until answered)"
