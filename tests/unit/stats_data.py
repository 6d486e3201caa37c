"""A small hand-made report database where every statistic is known exactly.

Two days in the period (2026-11-01 and -02), eight calls, and two just outside it:

call day status (question)   queue (rule)                     outcome   wait typed to queue danger
c1   1   routed              child-protection (child)          answered     5   1      8.0   yes
c2   1   routed              child-protection (child)          answered    30   0     40.0   no
c3   1   routed              women-protection (adult-female)   abandoned   50   0     35.5
c4   1   hung up (age)
c5   2   routed              general (default)                 answered    20   1      6.0   no,yes
c6   2   hung up (language)
c7   2   hung up (age)
c8   2   routed              women-protection (adult-female)   (waiting)        1     10.0
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite

from balagh.store.schema import migrate

COLUMNS = ("call_id", "reference", "channel", "language", "status", "rule", "queue",
           "started_at", "routed_at", "updated_at", "location", "queue_outcome",
           "wait_seconds", "typed_ahead", "gave_up_in")


def _report(call_id: str, day: int, status: str, *, queue: str | None = None,
            rule: str | None = None, outcome: str | None = None, wait: int | None = None,
            typed: int | None = None, to_queue: float | None = None, language: str = "ar",
            location: str | None = None, gave_up_in: str | None = None,
            started: str | None = None) -> tuple[Any, ...]:
    started = started or f"2026-11-0{day}T10:00:00.000Z"
    routed = None
    if to_queue is not None:
        routed = f"{started[:17]}{to_queue:06.3f}Z"
    return (call_id, f"R{call_id}", f"PJSIP/{call_id}", language, status, rule, queue, started,
            routed, started, location, outcome, wait, typed, gave_up_in)


REPORTS = [
    _report("c1", 1, "routed", queue="child-protection", rule="child", outcome="answered",
            wait=5, typed=1, to_queue=8.0, location="dubai"),
    _report("c2", 1, "routed", queue="child-protection", rule="child", outcome="answered",
            wait=30, typed=0, to_queue=40.0, location="dubai"),
    _report("c3", 1, "routed", queue="women-protection", rule="adult-female",
            outcome="abandoned", wait=50, typed=0, to_queue=35.5, language="en",
            location="sharjah"),
    _report("c4", 1, "hung_up_in_ivr", gave_up_in="age"),
    _report("c5", 2, "routed", queue="general", rule="default", outcome="answered", wait=20,
            typed=1, to_queue=6.0, location="abu-dhabi"),
    _report("c6", 2, "hung_up_in_ivr", gave_up_in="language"),
    _report("c7", 2, "hung_up_in_ivr", gave_up_in="age", language="en"),
    _report("c8", 2, "routed", queue="women-protection", rule="adult-female", typed=1,
            to_queue=10.0, language="en", location="sharjah"),
    # just outside the period, on both sides
    _report("c9", 1, "routed", queue="general", rule="default", outcome="answered", wait=99,
            typed=1, to_queue=5.0, started="2026-10-31T23:59:59.999Z"),
    _report("c10", 3, "hung_up_in_ivr", gave_up_in="emirate"),
]

ANSWERS = [
    ("c1", "language", "ar"), ("c1", "danger", "yes"),
    ("c2", "language", "ar"), ("c2", "danger", "no"),
    ("c5", "language", "ar"), ("c5", "danger", "no"), ("c5", "danger", "yes"),  # danger key
    ("c9", "danger", "yes"),
]


async def _create(path: Path) -> None:
    async with aiosqlite.connect(path) as conn:
        await migrate(conn)


def make_database(path: Path, reports: list[tuple[Any, ...]] | None = None) -> Path:
    asyncio.run(_create(path))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(f"INSERT INTO reports ({', '.join(COLUMNS)}) VALUES"
                         f" ({', '.join('?' for _ in COLUMNS)})",
                         REPORTS if reports is None else reports)
        conn.executemany("INSERT INTO answers (call_id, question, value, key, attempt,"
                         " answered_at) VALUES (?, ?, ?, '1', 1, '2026-11-01T10:00:01.000Z')",
                         ANSWERS)
        # What the call path stores with routed_at (store/calls.py set_status)
        conn.execute("UPDATE reports SET to_queue_tenths = CAST(round((julianday(routed_at)"
                     " - julianday(started_at)) * 864000.0) AS INTEGER)"
                     " WHERE routed_at IS NOT NULL")
    conn.close()
    return path
