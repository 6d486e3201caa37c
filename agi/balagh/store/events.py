"""The timeline of a report: what happened to the call, one append-only row per step.

Each row is written in the same Write as the report update it belongs to, so a report and
its timeline commit together or not at all. `detail` is a small JSON object and never
holds a caller's number; redaction (maintenance.py) empties the rows that name the
caller's place (location, and the emirate answer).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .writer import Statement


class EventKind(StrEnum):
    STARTED = "started"              # hotline
    ANSWER = "answer"                # question, value, key, attempt, typed_ahead
    LANGUAGE = "language"            # language
    LOCATION = "location"            # emirate, source
    ROUTING = "routing"              # rule, queue, priority, danger
    STATUS = "status"                # status, detail; question (hung up), typed_ahead
    QUEUE_JOIN = "queue_join"        # queue, position
    OVERFLOW = "overflow"            # from, to, to_kind (queue | number), reason
    AGENT_ANSWER = "agent_answer"    # queue, agent, wait_seconds
    ABANDON = "abandon"              # queue, wait_seconds, position
    TRANSFER = "transfer"            # type (blind | attended), result, to, by
    END = "end"                      # talk_seconds, by (caller | agent | transfer)
    SUPERVISOR_START = "supervisor_start"  # supervisor, mode, session
    SUPERVISOR_MODE = "supervisor_mode"    # supervisor, mode, session
    SUPERVISOR_END = "supervisor_end"      # supervisor, mode, session
    HANDOVER = "handover"            # event, outcome (delivered | failed), attempts
    SMS = "sms"                      # event, outcome (sent | withheld | delivered |
                                     # failed | buffered ...), attempts; never the
                                     # number or the words
    FOLLOWUP = "followup"            # status, reason, unit, id (a unit's word on the report)
    CALLBACK = "callback"            # attempt, outcome (scheduled | claimed | answered |
                                     # no-answer | failed | interrupted | cancelled), by
    SURVEY = "survey"                # the satisfaction call: as CALLBACK


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One step of a report, as stored (times ISO-8601 UTC text)."""

    id: int
    call_id: str
    at: str
    kind: EventKind | str  # the raw text if this version does not know the word
    detail: Mapping[str, Any]


def kind_of(text: str) -> EventKind | str:
    try:
        return EventKind(text)
    except ValueError:
        return text


def encode(detail: Mapping[str, Any]) -> str:
    # Compact and key-ordered: stable bytes for the same step, easy to grep.
    return json.dumps(dict(detail), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def decode(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"raw": text}
    return value if isinstance(value, dict) else {"value": value}


def event(call_id: str, at: str, kind: EventKind, detail: Mapping[str, Any]) -> Statement:
    """A row for a call of the IVR's own: written even if its report row was lost
    (like answers), so nothing the caller said depends on that one insert."""
    return ("INSERT INTO report_events (call_id, at, kind, detail) VALUES (?, ?, ?, ?)",
            (call_id, at, str(kind), encode(detail)))


def event_if_report(call_ids: Sequence[str], at: str, kind: EventKind,
                    detail: Mapping[str, Any]) -> Statement:
    """A row for whichever of `call_ids` is a Balagh report: AMI shows every call on the
    PBX, and the others must leave no trace here."""
    marks = ", ".join("?" for _ in call_ids)
    return (f"INSERT INTO report_events (call_id, at, kind, detail) SELECT call_id, ?, ?, ?"
            f" FROM reports WHERE call_id IN ({marks})",
            (at, str(kind), encode(detail), *call_ids))


def event_for_reference(reference: str, at: str, kind: EventKind,
                        detail: Mapping[str, Any]) -> Statement:
    """A row for the report with this reference (supervisors name calls by reference)."""
    return ("INSERT INTO report_events (call_id, at, kind, detail) SELECT call_id, ?, ?, ?"
            " FROM reports WHERE reference = ?",
            (at, str(kind), encode(detail), reference))


__all__ = ["EventKind", "TimelineEvent", "decode", "encode", "event", "event_for_reference",
           "event_if_report", "kind_of"]
