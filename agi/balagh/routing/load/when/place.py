"""`location:` conditions: the emirate (checked against the IVR menu's) and its source."""

from __future__ import annotations

from typing import Any

from balagh.config.yamlsrc import KeyPath
from balagh.routing.conditions import All, Condition, LocationEmirate, LocationSource
from balagh.routing.load import fields
from balagh.routing.load.when.context import WhenContext, one_or_many
from balagh.routing.location import EMIRATE_QUESTION, SOURCES

__all__ = ["parse_location"]


def parse_location(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
    doc = ctx.doc
    if not isinstance(raw, dict) or not raw:
        raise doc.error(key, "write location: {emirate: [sharjah, ajman]} or "
                        "{source: geolocation}")
    fields.known_keys(doc, key, raw, ("emirate", "source"))
    parts: list[Condition] = []
    if "emirate" in raw:
        known = (ctx.answer_values or {}).get(EMIRATE_QUESTION)
        emirates = set()
        for item_key, item in one_or_many(doc, (*key, "emirate"), raw["emirate"]):
            emirate = fields.token(doc, item_key, item)
            if known is not None and emirate not in known:
                raise doc.error(item_key, f"unknown emirate '{emirate}' (the IVR menu's "
                                f"emirates: {', '.join(sorted(known))})")
            emirates.add(emirate)
        parts.append(LocationEmirate(frozenset(emirates)))
    if "source" in raw:
        sources = set()
        for item_key, item in one_or_many(doc, (*key, "source"), raw["source"]):
            if item not in SOURCES:
                raise doc.error(item_key, f"unknown location source {item!r} (sources: "
                                f"{', '.join(SOURCES)})")
            sources.add(item)
        parts.append(LocationSource(frozenset(sources)))
    return parts[0] if len(parts) == 1 else All(tuple(parts))
