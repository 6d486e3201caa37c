"""Read a rule's `when:` into conditions, checking every name against the table and menu.

A `when` mapping holds conditions, all of which must hold. Its keys are condition
keywords (all, any, not, answer, caller, holiday, time, days, location, queue) or,
as shorthand, IVR question ids: `{age: child}` is `{answer: {age: child}}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any

from balagh.routing.conditions import (
    All,
    Answer,
    AnyOf,
    Calendar,
    CallerList,
    CallerNumber,
    CallerPrefix,
    CallerWithheld,
    Condition,
    Days,
    Holiday,
    LocationEmirate,
    LocationSource,
    Not,
    QueueTest,
    TimeWindow,
)
from balagh.routing.load import fields
from balagh.routing.location import EMIRATE_QUESTION, SOURCES
from balagh.yamlsrc import KeyPath, YamlDoc

__all__ = ["KEYWORDS", "WhenContext", "parse_when"]


@dataclass(frozen=True)
class WhenContext:
    """What names a condition may refer to."""

    doc: YamlDoc
    queues: tuple[str, ...]
    answer_values: Mapping[str, frozenset[str]] | None
    lists: Mapping[str, frozenset[str]]
    calendars: Mapping[str, Calendar]


def parse_when(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.doc.error(key, "must be a mapping: answers such as {age: child}, or "
                            "conditions such as all:, any:, not:, caller:, time:")
    if not raw:
        return All(())
    return _conditions(ctx, key, raw)


def _conditions(ctx: WhenContext, key: KeyPath, raw: dict[Any, Any]) -> Condition:
    """A mapping of conditions: all of them (one alone is itself)."""
    parts: list[Condition] = []
    for raw_name, value in raw.items():
        name = str(raw_name)
        here = (*key, name)
        parser = _KEYWORD_PARSERS.get(name)
        if parser is not None:
            parts.append(parser(ctx, here, value))
        else:
            parts.append(_answer(ctx, here, raw_name, value))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _condition_list(ctx: WhenContext, key: KeyPath, raw: Any, word: str) -> list[Condition]:
    if not isinstance(raw, list):
        raise ctx.doc.error(key, f"'{word}' takes a list of conditions, e.g. "
                            f"{word}: [{{age: child}}, {{caller: withheld}}]")
    items: list[Condition] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not item:
            raise ctx.doc.error((*key, index), "each item must be a condition mapping such "
                                "as {caller: withheld} or {age: child}")
        items.append(_conditions(ctx, (*key, index), item))
    return items


def _all(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    return All(tuple(_condition_list(ctx, key, raw, "all")))


def _any(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    items = _condition_list(ctx, key, raw, "any")
    if not items:
        raise ctx.doc.error(key, "an empty 'any' never matches; give at least one condition")
    return AnyOf(tuple(items))


def _not(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise ctx.doc.error(key, "'not' takes one condition mapping, e.g. not: {holiday: uae}; "
                            "to negate several, write not: {any: [...]}")
    return Not(_conditions(ctx, key, raw))


# --- answers -----------------------------------------------------------------------------------

def _answer_mapping(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise ctx.doc.error(key, "'answer' takes question: answer(s), e.g. "
                            "answer: {age: adult, gender: female}")
    parts = [_answer(ctx, (*key, str(name)), name, value, shorthand=False)
             for name, value in raw.items()]
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _answer(ctx: WhenContext, key: KeyPath, raw_question: Any, raw_accepted: Any,
            shorthand: bool = True) -> Condition:
    doc = ctx.doc
    if shorthand and (isinstance(raw_accepted, dict)
                      or (isinstance(raw_accepted, list) and raw_accepted
                      and all(isinstance(item, dict) for item in raw_accepted))):
        # A mapping value means the admin meant a condition keyword: a typo, say so.
        raise doc.error(key, f"unknown condition '{raw_question}' (conditions: "
                        f"{', '.join(KEYWORDS)}; a question id takes an answer or a list)")
    question = fields.token(doc, key, raw_question)
    known = None
    if ctx.answer_values is not None:
        if question not in ctx.answer_values:
            raise doc.error(key, f"unknown question '{question}' (the IVR menu asks: "
                            f"{', '.join(ctx.answer_values)})")
        known = ctx.answer_values[question]
    items = raw_accepted if isinstance(raw_accepted, list) else [raw_accepted]
    if not items:
        raise doc.error(key, "an empty list never matches; give at least one answer")
    accepted: set[str] = set()
    for index, item in enumerate(items):
        item_key = (*key, index) if isinstance(raw_accepted, list) else key
        value = fields.token(doc, item_key, item)
        if known is not None and value not in known:
            raise doc.error(item_key, f"'{question}' has no answer '{value}' "
                            f"(it has: {', '.join(sorted(known))})")
        accepted.add(value)
    return Answer(question, frozenset(accepted))


# --- the caller's number -----------------------------------------------------------------------

_CALLER_KEYS = ("prefix", "list", "number")


def _caller(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    doc = ctx.doc
    if raw == "withheld":
        return CallerWithheld()
    if not isinstance(raw, dict) or not raw:
        raise doc.error(key, "write caller: withheld, or one of {prefix: \"+9716\"}, "
                        "{list: NAME}, {number: \"+971...\"}")
    fields.known_keys(doc, key, raw, _CALLER_KEYS)
    parts: list[Condition] = []
    if "prefix" in raw:
        here = (*key, "prefix")
        parts.append(CallerPrefix(frozenset(
            fields.number(doc, item_key, item, prefix=True)
            for item_key, item in _one_or_many(doc, here, raw["prefix"]))))
    if "number" in raw:
        here = (*key, "number")
        parts.append(CallerNumber(frozenset(
            fields.number(doc, item_key, item)
            for item_key, item in _one_or_many(doc, here, raw["number"]))))
    if "list" in raw:
        lists = [_named_list(ctx, item_key, item)
                 for item_key, item in _one_or_many(doc, (*key, "list"), raw["list"])]
        parts.append(lists[0] if len(lists) == 1 else AnyOf(tuple(lists)))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _named_list(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    name = fields.token(ctx.doc, key, raw)
    if name not in ctx.lists:
        defined = ", ".join(ctx.lists) or "none defined; add them under the top-level lists:"
        raise ctx.doc.error(key, f"unknown list '{name}' (lists: {defined})")
    return CallerList(name, ctx.lists[name])


# --- the clock ---------------------------------------------------------------------------------

def _holiday(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    found: list[Condition] = []
    for item_key, item in _one_or_many(ctx.doc, key, raw):
        name = fields.token(ctx.doc, item_key, item)
        if name not in ctx.calendars:
            defined = (", ".join(ctx.calendars)
                       or "none defined; add them under the top-level calendars:")
            raise ctx.doc.error(item_key, f"unknown calendar '{name}' (calendars: {defined})")
        found.append(Holiday(ctx.calendars[name]))
    return found[0] if len(found) == 1 else AnyOf(tuple(found))


_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def _time(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    doc = ctx.doc
    if not isinstance(raw, dict):
        raise doc.error(key, "write time: {from: \"22:00\", to: \"06:00\"}")
    fields.known_keys(doc, key, raw, ("from", "to"))
    start = _clock(doc, (*key, "from"), raw.get("from"))
    end = _clock(doc, (*key, "to"), raw.get("to"))
    if start == end:
        raise doc.error((*key, "to"), "'from' and 'to' are the same time; to take calls "
                        "all day, leave 'time' out")
    return TimeWindow(start, end)


def _clock(doc: YamlDoc, key: KeyPath, raw: Any) -> time:
    if raw is None:
        raise doc.error(key, "missing: a time of day such as \"22:00\"")
    if isinstance(raw, int) and not isinstance(raw, bool):
        # Unquoted 22:00 is the base-60 number 1320 to YAML 1.1, while 06:00 stays a string.
        raise doc.error(key, "put the time in quotes, e.g. \"22:00\": YAML reads unquoted "
                        "22:00 as a number")
    found = _HHMM.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        raise doc.error(key, f"not a time of day: {raw!r} (write 24-hour \"HH:MM\", "
                        "\"00:00\" to \"23:59\")")
    return time(int(found[1]), int(found[2]))


_DAYS = {name: index for index, names in enumerate((
    ("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"), ("thu", "thursday"),
    ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday"))) for name in names}


def _days(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    if isinstance(raw, list) and not raw:
        raise ctx.doc.error(key, "an empty list of days never matches")
    days: set[int] = set()
    for item_key, item in _one_or_many(ctx.doc, key, raw):
        days |= _day_or_range(ctx.doc, item_key, item)
    return Days(frozenset(days))


def _day_or_range(doc: YamlDoc, key: KeyPath, raw: Any) -> set[int]:
    text = raw.strip().lower() if isinstance(raw, str) else None
    first, _, last = (text or "").partition("-")
    if text is None or first not in _DAYS or (last and last not in _DAYS):
        raise doc.error(key, f"not a day: {raw!r} (write mon, tue, wed, thu, fri, sat, sun, "
                        "or a range such as mon-fri)")
    start, end = _DAYS[first], _DAYS[last or first]
    span = (end - start) % 7  # a range may wrap the week end: fri-sun, sat-wed
    return {(start + step) % 7 for step in range(span + 1)}


# --- location and live queue state ---------------------------------------------------------------

def _location(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    doc = ctx.doc
    if not isinstance(raw, dict) or not raw:
        raise doc.error(key, "write location: {emirate: [sharjah, ajman]} or "
                        "{source: geolocation}")
    fields.known_keys(doc, key, raw, ("emirate", "source"))
    parts: list[Condition] = []
    if "emirate" in raw:
        known = (ctx.answer_values or {}).get(EMIRATE_QUESTION)
        emirates = set()
        for item_key, item in _one_or_many(doc, (*key, "emirate"), raw["emirate"]):
            emirate = fields.token(doc, item_key, item)
            if known is not None and emirate not in known:
                raise doc.error(item_key, f"unknown emirate '{emirate}' (the IVR menu's "
                                f"emirates: {', '.join(sorted(known))})")
            emirates.add(emirate)
        parts.append(LocationEmirate(frozenset(emirates)))
    if "source" in raw:
        sources = set()
        for item_key, item in _one_or_many(doc, (*key, "source"), raw["source"]):
            if item not in SOURCES:
                raise doc.error(item_key, f"unknown location source {item!r} (sources: "
                                f"{', '.join(SOURCES)})")
            sources.add(item)
        parts.append(LocationSource(frozenset(sources)))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


_QUEUE_TESTS = ("no_agents", "none_available", "callers_waiting_at_least",
                "longest_wait_at_least")


def _queue(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    doc = ctx.doc
    if not isinstance(raw, dict):
        raise doc.error(key, "write queue: {name: general, no_agents: true}")
    fields.known_keys(doc, key, raw, ("name", *_QUEUE_TESTS))
    name = fields.token(doc, (*key, "name"), raw.get("name"))
    if name not in ctx.queues:
        raise doc.error((*key, "name"), f"unknown queue '{name}' (queues: "
                        f"{', '.join(ctx.queues)})")
    tests: list[Condition] = []
    for kind in _QUEUE_TESTS:
        if kind not in raw:
            continue
        here = (*key, kind)
        value = raw[kind]
        if kind in ("no_agents", "none_available"):
            if not isinstance(value, bool):
                raise doc.error(here, f"must be true or false, got {value!r}")
            amount = int(value)
        else:
            amount = fields.positive(doc, here, value)
        tests.append(QueueTest(name, kind, amount))  # type: ignore[arg-type]
    if not tests:
        raise doc.error(key, f"say what to test: {', '.join(_QUEUE_TESTS)}")
    return tests[0] if len(tests) == 1 else All(tuple(tests))


def _one_or_many(doc: YamlDoc, key: KeyPath, raw: Any) -> list[tuple[KeyPath, Any]]:
    """A value or a list of values (any of them), each with its own key for messages."""
    if isinstance(raw, list):
        if not raw:
            raise doc.error(key, "an empty list never matches; give at least one")
        return [((*key, index), item) for index, item in enumerate(raw)]
    return [(key, raw)]


_KEYWORD_PARSERS: dict[str, Callable[[WhenContext, KeyPath, Any], Condition]] = {
    "all": _all,
    "any": _any,
    "not": _not,
    "answer": _answer_mapping,
    "caller": _caller,
    "holiday": _holiday,
    "time": _time,
    "days": _days,
    "location": _location,
    "queue": _queue,
}
KEYWORDS = tuple(_KEYWORD_PARSERS)
