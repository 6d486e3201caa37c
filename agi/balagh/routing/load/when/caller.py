"""`caller:` conditions: withheld, or numbers, prefixes and named lists (from lists:)."""

from __future__ import annotations

from typing import Any

from balagh.config.yamlsrc import KeyPath
from balagh.routing.conditions import (
    All,
    AnyOf,
    CallerList,
    CallerNumber,
    CallerPrefix,
    CallerWithheld,
    Condition,
)
from balagh.routing.load import fields
from balagh.routing.load.when.context import WhenContext, one_or_many

__all__ = ["parse_caller"]

_CALLER_KEYS = ("prefix", "list", "number")


def parse_caller(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
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
            fields.number(doc, item_key, item, prefix=True,
                          country_code=ctx.country_code)
            for item_key, item in one_or_many(doc, here, raw["prefix"]))))
    if "number" in raw:
        here = (*key, "number")
        parts.append(CallerNumber(frozenset(
            fields.number(doc, item_key, item, country_code=ctx.country_code)
            for item_key, item in one_or_many(doc, here, raw["number"]))))
    if "list" in raw:
        lists = [_named_list(ctx, item_key, item)
                 for item_key, item in one_or_many(doc, (*key, "list"), raw["list"])]
        parts.append(lists[0] if len(lists) == 1 else AnyOf(tuple(lists)))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _named_list(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    name = fields.token(ctx.doc, key, raw)
    if name not in ctx.lists:
        defined = ", ".join(ctx.lists) or "none defined; add them under the top-level lists:"
        raise ctx.doc.error(key, f"unknown list '{name}' (lists: {defined})")
    return CallerList(name, ctx.lists[name])
