"""Warnings: tables that load and route every call, but probably not as the admin meant.

Each is a RoutingWarning with file, line and key; `balagh routes check` prints them
and `--strict` fails on them (for CI). Documented in docs/routing.md.
"""

from __future__ import annotations

from balagh.config.yamlsrc import KeyPath, YamlDoc, format_key
from balagh.routing.conditions import (
    All,
    AnyOf,
    Days,
    Holiday,
    Not,
    QueueTest,
    TimeWindow,
    conjuncts,
    nodes,
)
from balagh.routing.model import RoutingWarning, Rule, Table

__all__ = ["table_warnings"]


def table_warnings(table: Table, doc: YamlDoc) -> tuple[RoutingWarning, ...]:
    found: list[tuple[KeyPath, str]] = []
    found += _unused_queues(table)
    found += _empty_lists(table)
    holiday_above = False
    for index, rule in enumerate(table.rules):
        key: KeyPath = ("rules", index)
        found += [((*key, *sub), message) for sub, message in _overflow_loops(rule)]
        if _clock_only(rule) and not holiday_above:
            found.append(((*key, "when"), "tests only the clock (time, days): on a public "
                          "holiday it follows the working-week timetable; add "
                          "'not: {holiday: NAME}' if the unit is closed on holidays"))
        if _to_unstaffed(rule):
            found.append(((*key, "queue"), f"sends calls to '{rule.queue}' exactly when it "
                          "has no agent logged in"))
        holiday_above = holiday_above or any(isinstance(n, Holiday) for n in nodes(rule.when))
    return tuple(RoutingWarning(str(doc.path), doc.line(key), format_key(key), message)
                 for key, message in found)


def _unused_queues(table: Table) -> list[tuple[KeyPath, str]]:
    used = {table.default_queue}
    for rule in table.rules:
        used.add(rule.queue)
        used.update(step.target for step in rule.overflow if step.kind == "queue")
    return [(("queues", index), f"queue '{queue}' is listed but no rule, overflow step or "
             "default sends calls to it")
            for index, queue in enumerate(table.queues) if queue not in used]


def _empty_lists(table: Table) -> list[tuple[KeyPath, str]]:
    return [(("lists", name), f"list '{name}' has no numbers: a caller condition on it "
             "never matches")
            for name, numbers in table.lists.items() if not numbers]


def _overflow_loops(rule: Rule) -> list[tuple[KeyPath, str]]:
    seen = {rule.queue}
    found: list[tuple[KeyPath, str]] = []
    for index, step in enumerate(rule.overflow):
        if step.kind != "queue":
            continue
        if step.target in seen:
            found.append((("overflow", index, "queue"), f"goes back to queue '{step.target}', "
                          "where the caller has already waited"))
        seen.add(step.target)
    return found


def _clock_only(rule: Rule) -> bool:
    """The rule tests time or days and nothing else (combinators aside)."""
    leaves = [node for node in nodes(rule.when) if not isinstance(node, All | AnyOf | Not)]
    return bool(leaves) and all(isinstance(leaf, TimeWindow | Days) for leaf in leaves)


def _to_unstaffed(rule: Rule) -> bool:
    return any(isinstance(part, QueueTest) and part.queue == rule.queue
               and part.kind == "no_agents" and part.amount == 1
               for part in conjuncts(rule.when))
