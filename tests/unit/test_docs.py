"""The docs name log events that the code really emits."""

from __future__ import annotations

import re

from .shipped import REPO

EVENT = re.compile(r"`([a-z_]+\.[a-z_]+)`")


def logs_section(text: str) -> str:
    start = text.index("## Logs")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def emitted_events() -> set[str]:
    events: set[str] = set()
    call = re.compile(r"\blog\.(?:debug|info|warning|error|exception)\(\s*\"([a-z_.]+)\"")
    for path in (REPO / "agi" / "balagh").rglob("*.py"):
        events.update(call.findall(path.read_text(encoding="utf-8")))
    return events


def test_every_log_event_in_the_operators_guide_is_emitted():
    named = set(EVENT.findall(logs_section((REPO / "docs" / "operators.md").read_text())))
    assert len(named) >= 10
    assert named - emitted_events() == set()
