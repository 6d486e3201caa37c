"""Load and validate config/routing.yaml into a Table (the YAML half of routing).

Every problem is a ConfigError naming file, line and key, found once at start-up,
so a typo never turns into a caller routed to the wrong unit at night. Suspicious
but legal tables load with RoutingWarnings on the Table (see lint.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balagh.config.values import queue_name_problem
from balagh.config.yamlsrc import KeyPath, YamlDoc, load_yaml
from balagh.routing.conditions import Calendar
from balagh.routing.load import fields
from balagh.routing.load.lint import table_warnings
from balagh.routing.load.when import WhenContext, parse_when
from balagh.routing.model import (
    DEFAULT_RULE,
    DEFAULT_TIMEZONE,
    DEFAULT_WAIT,
    OverflowStep,
    Rule,
    Table,
)
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE

__all__ = ["load_table"]

_TOP_KEYS = ("timezone", "wait", "queues", "priority", "lists", "calendars", "rules", "default")
_PRIORITY_KEYS = ("in_danger", "normal")
_RULE_KEYS = ("name", "when", "queue", "priority", "announce", "wait", "overflow")
_STEP_KEYS = ("queue", "number", "wait")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def load_table(path: str | Path,
               answer_values: Mapping[str, frozenset[str]] | None = None, *,
               timezone: str | None = None,
               country_code: str = DEFAULT_COUNTRY_CODE) -> Table:
    """Load the routing table; with `answer_values` (from Menu.answer_values()) every
    question id and answer a rule tests must exist in the IVR menu. `timezone` is the
    hotline's (balagh.yaml): the table uses it, and a table naming another is refused;
    national numbers in the table are in `country_code`'s country."""
    doc = load_yaml(Path(path))
    top = doc.data
    if not isinstance(top, dict):
        raise doc.error((), "the routing table must be a mapping with " + ", ".join(_TOP_KEYS))
    fields.known_keys(doc, (), top, _TOP_KEYS)

    queues = _queues(doc, top.get("queues"))
    danger_priority, normal_priority = _priorities(doc, top.get("priority"))
    if "default" not in top or top["default"] is None:
        raise doc.error(("default",), "missing: the queue for calls no rule matches")
    default_queue = _queue_ref(doc, ("default",), top["default"], queues)
    timezone = _timezone(doc, top.get("timezone", timezone or DEFAULT_TIMEZONE), timezone)
    wait = fields.positive(doc, ("wait",), top.get("wait", DEFAULT_WAIT))
    lists = _lists(doc, top.get("lists"), country_code)
    calendars = _calendars(doc, top.get("calendars"))
    ctx = WhenContext(doc, queues, answer_values, lists, calendars, country_code)

    raw_rules = top.get("rules")
    if raw_rules is None:
        raw_rules = []  # everything to the default queue is a valid (if dull) table
    if not isinstance(raw_rules, list):
        raise doc.error(("rules",), "must be a list of rules")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        rule = _rule(ctx, ("rules", index), raw, default_queue)
        _check_against_earlier(doc, index, rule, rules)
        rules.append(rule)

    table = Table(queues=queues, rules=tuple(rules), default_queue=default_queue,
                  danger_priority=danger_priority, normal_priority=normal_priority,
                  source=doc.path, timezone=timezone, wait=wait, country_code=country_code,
                  lists=MappingProxyType(lists), calendars=MappingProxyType(calendars))
    return replace(table, warnings=table_warnings(table, doc))


def _queues(doc: YamlDoc, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise doc.error(("queues",), "must be a non-empty list of Asterisk queue names")
    queues: list[str] = []
    for index, item in enumerate(raw):
        queue = fields.token(doc, ("queues", index), item)
        if problem := queue_name_problem(queue):
            raise doc.error(("queues", index), problem)
        if queue in queues:
            raise doc.error(("queues", index), f"queue '{queue}' is listed twice")
        queues.append(queue)
    return tuple(queues)


def _priorities(doc: YamlDoc, raw: Any) -> tuple[int, int]:
    if raw is None:
        return Table.danger_priority, Table.normal_priority
    if not isinstance(raw, dict):
        raise doc.error(("priority",), "must be a mapping like {in_danger: 10, normal: 0}")
    fields.known_keys(doc, ("priority",), raw, _PRIORITY_KEYS)
    danger = fields.whole(doc, ("priority", "in_danger"),
                          raw.get("in_danger", Table.danger_priority))
    normal = fields.whole(doc, ("priority", "normal"), raw.get("normal", Table.normal_priority))
    if danger < normal:
        raise doc.error(("priority", "in_danger"),
                        f"must not be lower than normal ({normal}), got {danger}")
    return danger, normal


def _timezone(doc: YamlDoc, raw: Any, hotline: str | None) -> str:
    if not isinstance(raw, str) or not raw:
        raise doc.error(("timezone",), f"must be a time zone name such as Asia/Dubai, "
                        f"got {raw!r}")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error(("timezone",), f"unknown time zone '{raw}' (use an IANA name "
                        "such as Asia/Dubai)") from None
    if hotline is not None and raw != hotline:
        raise doc.error(("timezone",), f"{raw} differs from the hotline's time zone {hotline} "
                        "(balagh.yaml `timezone`): the hotline has one zone; set it in one "
                        "place, or the same in both")
    return raw


def _lists(doc: YamlDoc, raw: Any, country_code: str) -> dict[str, frozenset[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error(("lists",), "must map list names to numbers, e.g. "
                        "lists: {repeat-callers: [\"+971501234567\"]}")
    lists: dict[str, frozenset[str]] = {}
    for raw_name, numbers in raw.items():
        key = ("lists", str(raw_name))
        name = fields.token(doc, key, raw_name)
        if numbers is None:
            numbers = []
        if not isinstance(numbers, list):
            raise doc.error(key, "must be a list of phone numbers in quotes")
        lists[name] = frozenset(fields.number(doc, (*key, index), item,
                                              country_code=country_code)
                                for index, item in enumerate(numbers))
    return lists


def _calendars(doc: YamlDoc, raw: Any) -> dict[str, Calendar]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error(("calendars",), "must map calendar names to dates, e.g. "
                        "calendars: {uae: [2026-12-02, {date: 2026-12-03, name: National Day}]}")
    calendars: dict[str, Calendar] = {}
    for raw_name, entries in raw.items():
        key = ("calendars", str(raw_name))
        name = fields.token(doc, key, raw_name)
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise doc.error(key, "must be a list of dates (YYYY-MM-DD)")
        days: dict[date, str] = {}
        for index, entry in enumerate(entries):
            day, label = _holiday(doc, (*key, index), entry)
            if day in days:
                first = next(i for i, e in enumerate(entries) if _same_day(e, day))
                raise doc.error((*key, index), f"{day.isoformat()} is listed twice (first on "
                                f"line {doc.line((*key, first))})")
            days[day] = label
        calendars[name] = Calendar(name, days)
    return calendars


def _holiday(doc: YamlDoc, key: KeyPath, raw: Any) -> tuple[date, str]:
    label = ""
    date_key = key
    if isinstance(raw, dict):
        fields.known_keys(doc, key, raw, ("date", "name"))
        date_key = (*key, "date")
        label = raw.get("name") or ""
        if not isinstance(label, str):
            raise doc.error((*key, "name"), f"must be text, got {label!r}")
        raw = raw.get("date")
    return _date(doc, date_key, raw), label


def _date(doc: YamlDoc, key: KeyPath, raw: Any) -> date:
    if isinstance(raw, datetime):
        raise doc.error(key, f"a holiday is a whole day: write the date alone, "
                        f"e.g. {raw.date().isoformat()}")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise doc.error(key, f"not a date: {raw!r} ({exc})") from None
    raise doc.error(key, f"not a date: {raw!r} (write YYYY-MM-DD, e.g. 2026-12-02)")


def _same_day(entry: Any, day: date) -> bool:
    raw = entry.get("date") if isinstance(entry, dict) else entry
    return raw == day or raw == day.isoformat()


def _rule(ctx: WhenContext, key: KeyPath, raw: Any, default_queue: str) -> Rule:
    doc = ctx.doc
    if not isinstance(raw, dict):
        raise doc.error(key, "a rule must be a mapping with name, when and queue")
    fields.known_keys(doc, key, raw, _RULE_KEYS)
    name = fields.token(doc, (*key, "name"), raw.get("name"))
    if name == DEFAULT_RULE:
        raise doc.error((*key, "name"), f"'{DEFAULT_RULE}' is reserved for calls no rule "
                        "matches; set the top-level default instead")
    if "when" not in raw:
        raise doc.error((*key, "when"),
                        "missing; write 'when: {}' for a rule that takes every call")
    when = parse_when(ctx, (*key, "when"), raw["when"])
    queue = _queue_ref(doc, (*key, "queue"), raw.get("queue"), ctx.queues)
    priority = None
    if raw.get("priority") is not None:
        priority = fields.whole(doc, (*key, "priority"), raw["priority"])
    announce = None
    if raw.get("announce") is not None:
        announce = fields.token(doc, (*key, "announce"), raw["announce"])
    wait = None
    if raw.get("wait") is not None:
        wait = fields.positive(doc, (*key, "wait"), raw["wait"])
    overflow = _overflow(ctx, (*key, "overflow"), raw.get("overflow"))
    if queue == default_queue:
        for extra in ("wait", "overflow"):
            if raw.get(extra):
                raise doc.error((*key, extra), f"never used: '{queue}' is the default queue, "
                                "the last stop, where callers wait until answered")
    else:
        _check_chain(doc, key, overflow, default_queue)
    return Rule(name=name, when=when, queue=queue, priority=priority, line=doc.line(key),
                announce=announce, wait=wait, overflow=overflow)


def _overflow(ctx: WhenContext, key: KeyPath, raw: Any) -> tuple[OverflowStep, ...]:
    doc = ctx.doc
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise doc.error(key, "must be a list of steps such as "
                        "- {queue: general, wait: 60} or - {number: \"+97165555555\"}")
    steps: list[OverflowStep] = []
    for index, item in enumerate(raw):
        here = (*key, index)
        if not isinstance(item, dict):
            raise doc.error(here, "a step is {queue: NAME, wait: SECONDS} or "
                            "{number: \"+971...\"}")
        fields.known_keys(doc, here, item, _STEP_KEYS)
        if ("queue" in item) == ("number" in item):
            raise doc.error(here, "a step has either 'queue' or 'number' (one of them)")
        wait = None
        if item.get("wait") is not None:
            wait = fields.positive(doc, (*here, "wait"), item["wait"])
        if "queue" in item:
            target = _queue_ref(doc, (*here, "queue"), item["queue"], ctx.queues)
            steps.append(OverflowStep("queue", target, wait))
        else:
            steps.append(OverflowStep("number", fields.number(
                doc, (*here, "number"), item["number"], country_code=ctx.country_code), wait))
    return tuple(steps)


def _check_chain(doc: YamlDoc, key: KeyPath, steps: tuple[OverflowStep, ...],
                 default_queue: str) -> None:
    for index, step in enumerate(steps):
        if step.kind != "queue" or step.target != default_queue:
            continue
        here = (*key, "overflow", index)
        if step.wait is not None:
            raise doc.error((*here, "wait"), f"'{default_queue}' is the default queue, the "
                            "last stop: callers wait there until answered; remove 'wait'")
        if index + 1 < len(steps):
            raise doc.error((*key, "overflow", index + 1), "never reached: callers stay in "
                            f"the default queue '{default_queue}' until answered")


def _check_against_earlier(doc: YamlDoc, index: int, rule: Rule, earlier: list[Rule]) -> None:
    for before in earlier:
        if before.name == rule.name:
            raise doc.error(("rules", index, "name"),
                            f"duplicate rule name '{rule.name}' (first at line {before.line})")
    for before in earlier:
        if before.shadows(rule):
            raise doc.error(("rules", index, "when"),
                            f"rule '{rule.name}' can never match: rule '{before.name}' "
                            f"(line {before.line}) above already takes every such call")


def _queue_ref(doc: YamlDoc, key: KeyPath, raw: Any, queues: tuple[str, ...]) -> str:
    queue = fields.token(doc, key, raw)
    if queue not in queues:
        raise doc.error(key, f"unknown queue '{queue}' (queues: {', '.join(queues)})")
    return queue
