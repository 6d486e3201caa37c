"""`queue:` conditions on a queue's live state: agents logged in or free, callers, waits."""

from __future__ import annotations

from typing import Any

from balagh.config.yamlsrc import KeyPath
from balagh.routing.conditions import All, Condition, QueueTest
from balagh.routing.load import fields
from balagh.routing.load.when.context import WhenContext

__all__ = ["parse_queue"]

_QUEUE_TESTS = ("no_agents", "none_available", "callers_waiting_at_least",
                "longest_wait_at_least")


def parse_queue(ctx: WhenContext, key: KeyPath, raw: Any) -> Condition:
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
