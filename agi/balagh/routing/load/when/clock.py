"""`holiday:`, `time:` and `days:` conditions, with the YAML pitfalls of times spelled out."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from balagh.config.yamlsrc import KeyPath, YamlDoc
from balagh.routing.conditions import AnyOf, Condition, Days, Holiday, TimeWindow
from balagh.routing.load import fields
from balagh.routing.load.when.context import WhenContext, one_or_many

__all__ = ["parse_days", "parse_holiday", "parse_time"]


def parse_holiday(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    found: list[Condition] = []
    for item_key, item in one_or_many(ctx.doc, key, raw):
        name = fields.token(ctx.doc, item_key, item)
        if name not in ctx.calendars:
            defined = (", ".join(ctx.calendars)
                       or "none defined; add them under the top-level calendars:")
            raise ctx.doc.error(item_key, f"unknown calendar '{name}' (calendars: {defined})")
        found.append(Holiday(ctx.calendars[name]))
    return found[0] if len(found) == 1 else AnyOf(tuple(found))


_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def parse_time(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
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


def parse_days(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    if isinstance(raw, list) and not raw:
        raise ctx.doc.error(key, "an empty list of days never matches")
    days: set[int] = set()
    for item_key, item in one_or_many(ctx.doc, key, raw):
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
