"""A `when:` mapping into one Condition: all/any/not, answers, and the keyword table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from balagh.config.yamlsrc import KeyPath
from balagh.routing.conditions import All, Answer, AnyOf, Condition, Not
from balagh.routing.load import fields
from balagh.routing.load.when.caller import parse_caller
from balagh.routing.load.when.clock import parse_days, parse_holiday, parse_time
from balagh.routing.load.when.context import WhenContext
from balagh.routing.load.when.place import parse_location
from balagh.routing.load.when.queues import parse_queue

__all__ = ["KEYWORDS", "parse_when"]


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


_KEYWORD_PARSERS: dict[str, Callable[[WhenContext, KeyPath, Any], Condition]] = {
    "all": _all,
    "any": _any,
    "not": _not,
    "answer": _answer_mapping,
    "caller": parse_caller,
    "holiday": parse_holiday,
    "time": parse_time,
    "days": parse_days,
    "location": parse_location,
    "queue": parse_queue,
}
KEYWORDS = tuple(_KEYWORD_PARSERS)
