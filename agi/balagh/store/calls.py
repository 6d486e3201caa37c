"""The call path's writes: one report row per call, every answer as it is given.

Every method here only enqueues on the writer (plain methods, no await, never
raise): a database problem must never block or break a call. The queue_*
methods are the queue's side of the call, from AMI events (call_id is
Asterisk's Uniqueid); record_reload notes a routing-table load the same way.

Every step also appends its row to the report's timeline (events.py) in the same Write,
so the report and its timeline commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import structlog

from balagh.privacy import redact_text
from balagh.status import ENDED_STATUSES, ROUTED_STATUSES, ReportStatus
from balagh.vocabulary import ReloadAttempt

from . import reference as refs
from .events import EventKind, event, event_if_report
from .timestamps import iso, now
from .writer import Statement, Writer

log = structlog.get_logger()


class CallRecorder:
    REFERENCE_TRIES = 50  # random draws before widening the reference by a digit

    def __init__(self, writer: Writer, references: Iterable[str] = ()) -> None:
        self.writer = writer
        self.references: set[str] = set(references)  # every reference already used

    async def flush(self) -> None:
        """Return once every write recorded so far is committed (or dropped)."""
        await self.writer.flush()

    # ------------------------------------------------------------ references

    def new_reference(self) -> str:
        """A reference number no report in this database has used."""
        digits = refs.RANDOM_DIGITS
        while True:
            for _ in range(self.REFERENCE_TRIES):
                candidate = refs.generate(digits)
                if candidate not in self.references:
                    self.references.add(candidate)
                    return candidate
            # The space is nearly full: longer numbers beat an endless loop.
            log.warning("store.reference_space_crowded", digits=digits)
            digits += 1

    # -------------------------------------------------------------- the IVR

    def start_report(self, *, call_id: str, reference: str, channel: str, caller: str | None,
                     hotline: str | None, started_at: datetime,
                     caller_hash: str | None = None) -> None:
        def build() -> list[Statement]:
            self.references.add(reference)
            at = iso(started_at)
            return [(
                "INSERT INTO reports (call_id, reference, channel, caller, hotline,"
                " status, started_at, updated_at, caller_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (call_id, reference, channel, caller or None, hotline,
                 str(ReportStatus.IN_IVR), at, at, caller_hash),
            ), event(call_id, at, EventKind.STARTED, {"hotline": hotline})]

        self._submit("start_report", call_id, build)

    def record_answer(self, *, call_id: str, question: str, value: str | None, key: str | None,
                      attempt: int, at: datetime, typed_ahead: bool = False) -> None:
        def build() -> list[Statement]:
            when = iso(at)
            return [
                ("INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 (call_id, question, value, key, int(attempt), when)),
                ("UPDATE reports SET updated_at = ? WHERE call_id = ?", (when, call_id)),
                event(call_id, when, EventKind.ANSWER,
                      {"question": question, "value": value, "key": key,
                       "attempt": int(attempt), "typed_ahead": bool(typed_ahead)}),
            ]

        self._submit("record_answer", call_id, build)

    def set_language(self, *, call_id: str, language: str, at: datetime | None = None) -> None:
        # Without a time, the app's clock: still not the database's.
        def build() -> list[Statement]:
            when = now() if at is None else iso(at)
            return [("UPDATE reports SET language = ?, updated_at = ? WHERE call_id = ?",
                     (language, when, call_id)),
                    event(call_id, when, EventKind.LANGUAGE, {"language": language})]

        self._submit("set_language", call_id, build)

    def set_location(self, *, call_id: str, emirate: str | None, source: str,
                     at: datetime) -> None:
        self._update("set_location", call_id, at,
                     event(call_id, iso(at), EventKind.LOCATION,
                           {"emirate": emirate, "source": source}),
                     location=emirate, location_source=source)

    def record_decision(self, *, call_id: str, rule: str, queue: str, priority: int,
                        at: datetime, danger: bool = False) -> None:
        def build() -> list[Statement]:
            when = iso(at)
            return [("UPDATE reports SET rule = ?, queue = ?, priority = ?, updated_at = ?"
                     " WHERE call_id = ?", (rule, queue, int(priority), when, call_id)),
                    event(call_id, when, EventKind.ROUTING,
                          {"rule": rule, "queue": queue, "priority": int(priority),
                           "danger": bool(danger)})]

        self._submit("record_decision", call_id, build)

    def set_status(self, *, call_id: str, status: ReportStatus, at: datetime,
                   detail: str | None = None, typed_ahead: bool | None = None,
                   gave_up_in: str | None = None) -> None:
        """The report's status; with it, when known, whether the menu's last key was typed
        ahead and (hung up in the IVR) the question the caller gave up in."""
        # Callers pass an error's kind, not its message; scrub anyway, as the logs do.
        detail = None if detail is None else redact_text(detail)

        def build() -> list[Statement]:
            when = iso(at)
            sets = ["status = ?", "status_detail = ?", "updated_at = ?"]
            params: list[Any] = [str(status), detail, when]
            facts: dict[str, Any] = {"status": str(status), "detail": detail}
            if typed_ahead is not None:
                sets.append("typed_ahead = ?")
                params.append(int(typed_ahead))
                facts["typed_ahead"] = bool(typed_ahead)
            if gave_up_in is not None:
                sets.append("gave_up_in = ?")
                params.append(gave_up_in)
                facts["question"] = gave_up_in
            # The first routed or ended status stamps its time; later ones keep it.
            if status in ROUTED_STATUSES:
                # In SQL, as schema v8 filled it for older reports: the same figures.
                sets.append("routed_at = COALESCE(routed_at, ?)")
                sets.append("to_queue_tenths = COALESCE(to_queue_tenths, CAST(round(("
                            "julianday(COALESCE(routed_at, ?)) - julianday(started_at))"
                            " * 864000.0) AS INTEGER))")
                params.extend((when, when))
            if status in ENDED_STATUSES:
                sets.append("ended_at = COALESCE(ended_at, ?)")
                params.append(when)
            # When the app and the watchdog both close a report (the app lost its link
            # while the watchdog moved the caller), "routed" stands: nothing overwrites
            # it. The timeline keeps every attempt.
            params.extend((call_id, str(ReportStatus.ROUTED)))
            return [(f"UPDATE reports SET {', '.join(sets)} WHERE call_id = ? AND status != ?",
                     params),
                    event(call_id, when, EventKind.STATUS, facts)]

        self._submit("set_status", call_id, build)

    # ----------------------------------------------- the queue's side (AMI events)

    def queue_joined(self, *, call_id: str, queue: str, at: datetime,
                     position: int | None = None) -> None:
        self._update("queue_joined", call_id, at,
                     self._ami_event(call_id, at, EventKind.QUEUE_JOIN,
                                     {"queue": queue, "position": position}),
                     joined_queue=queue)

    def queue_answered(self, *, call_id: str, queue: str, agent: str, wait_seconds: int,
                       at: datetime) -> None:
        self._update("queue_answered", call_id, at,
                     self._ami_event(call_id, at, EventKind.AGENT_ANSWER,
                                     {"queue": queue, "agent": agent,
                                      "wait_seconds": int(wait_seconds)}),
                     queue_outcome="answered", joined_queue=queue, answered_by=agent,
                     answered_at=iso(at), wait_seconds=int(wait_seconds))

    def queue_abandoned(self, *, call_id: str, queue: str, wait_seconds: int,
                        at: datetime, position: int | None = None) -> None:
        self._update("queue_abandoned", call_id, at,
                     self._ami_event(call_id, at, EventKind.ABANDON,
                                     {"queue": queue, "wait_seconds": int(wait_seconds),
                                      "position": position}),
                     queue_outcome="abandoned", joined_queue=queue,
                     wait_seconds=int(wait_seconds), ended_at=iso(at))

    def queue_completed(self, *, call_id: str, talk_seconds: int, at: datetime,
                        by: str | None = None) -> None:
        self._update("queue_completed", call_id, at,
                     self._ami_event(call_id, at, EventKind.END,
                                     {"talk_seconds": int(talk_seconds), "by": by}),
                     talk_seconds=int(talk_seconds), ended_at=iso(at))

    def overflowed(self, *, call_id: str, from_: str | None, to: str, to_kind: str,
                   reason: str | None, at: datetime) -> None:
        """One step of the overflow chain (the dialplan's BalaghOverflow user event)."""
        self._update("overflowed", call_id, at,
                     self._ami_event(call_id, at, EventKind.OVERFLOW,
                                     {"from": from_, "to": to, "to_kind": to_kind,
                                      "reason": reason}))

    def transferred(self, *, call_ids: Sequence[str], kind: str, result: str | None,
                    to: str | None, by: str | None, at: datetime) -> None:
        """A transfer AMI saw; `call_ids` are all the channels it names, whichever of them
        is a report (the caller, as transferee or transferer) gets the row."""
        ids = [str(call_id) for call_id in call_ids if call_id]
        if not ids:
            return
        detail = {"type": kind, "result": result, "to": to, "by": by}

        def build() -> list[Statement]:
            when = iso(at)
            marks = ", ".join("?" for _ in ids)
            return [event_if_report(ids, when, EventKind.TRANSFER, detail),
                    (f"UPDATE reports SET updated_at = ? WHERE call_id IN ({marks})",
                     (when, *ids))]

        self._submit("transferred", ids[0], build)

    # ------------------------------------------------------ the routing table

    def record_reload(self, attempt: ReloadAttempt) -> None:
        """One attempt to load the routing table (applied or refused)."""
        self._submit("record_reload", "-", lambda: [(
            "INSERT INTO routing_reloads (at, file, sha256, trigger, outcome, rules, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (iso(attempt.at), attempt.file, attempt.sha256, attempt.trigger, attempt.outcome,
             attempt.rules, attempt.error))])

    # ------------------------------------------------------------------ helpers

    def _update(self, op: str, call_id: str, at: datetime, step: Statement | None = None,
                **columns: Any) -> None:
        """Set columns of one report (a call that is not ours simply matches no row), and
        append its timeline row `step` in the same Write."""
        def build() -> list[Statement]:
            names = "".join(f"{name} = ?, " for name in columns)
            statements: list[Statement] = [] if step is None else [step]
            statements.append((f"UPDATE reports SET {names}updated_at = ? WHERE call_id = ?",
                               (*columns.values(), iso(at), call_id)))
            return statements

        self._submit(op, call_id, build)

    @staticmethod
    def _ami_event(call_id: str, at: datetime, kind: EventKind,
                   detail: dict[str, Any]) -> Statement:
        return event_if_report([call_id], iso(at), kind, detail)

    def _submit(self, op: str, call_id: str,
                build: Callable[[], Iterable[Statement]]) -> None:
        self.writer.submit(op, build, call_id=str(call_id))
