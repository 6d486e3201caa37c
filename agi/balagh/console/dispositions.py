"""Agents' dispositions (genuine, silent, prank, ...) and notes, in console.sqlite3.

Kept by the console in its own file, not sent to the app: the console never writes the
report store, a disposition needs no new way into the call path, and the file outlives
restarts like the console's users and audit. `balagh stats` and the report pack count
them per queue and period through readmodel/dispositions.py, which reads this table.

One row per call (the report's call id): saving again corrects it. Plain sqlite3, called
from the console's own threads (offloop.py's manner), never from the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from balagh.store.permissions import make_private, make_private_folder
from balagh.store.timestamps import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS dispositions (
    call_id     TEXT PRIMARY KEY,       -- the report's call id
    reference   TEXT,                   -- the report's reference, when it was found
    queue       TEXT NOT NULL,          -- the queue that rang the agent
    member      TEXT NOT NULL,          -- the queue member (PJSIP/agent1)
    user        TEXT NOT NULL,          -- the console user who saved it
    disposition TEXT NOT NULL,          -- one of console.dispositions
    note        TEXT,                   -- bounded (console.note_max_chars); emptied by redact
    at          TEXT NOT NULL           -- UTC, ISO 8601: when it was (last) saved
);
CREATE INDEX IF NOT EXISTS dispositions_at ON dispositions (at);
"""
BUSY_TIMEOUT_SECONDS = 1.0


class DispositionError(ValueError):
    pass


@dataclass(frozen=True)
class Disposition:
    call_id: str
    reference: str | None
    queue: str
    member: str
    user: str
    disposition: str
    note: str | None
    at: str


class DispositionBook:
    def __init__(self, path: Path, choices: tuple[str, ...], note_max_chars: int) -> None:
        self.path = Path(path)
        self.choices = choices
        self.note_max_chars = note_max_chars
        make_private_folder(self.path.parent)
        created = not self.path.exists()
        with self._db() as db:
            db.executescript(SCHEMA)
        if created:
            make_private([self.path])

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def problem(self, disposition: str, note: str) -> str | None:
        """Why this disposition and note cannot be saved (shown to the agent), or None."""
        if disposition not in self.choices:
            return "disposition_unknown"
        if len(note) > self.note_max_chars:
            return "note_too_long"
        return None

    def save(self, row: Disposition) -> None:
        if (problem := self.problem(row.disposition, row.note or "")) is not None:
            raise DispositionError(problem)
        with self._db() as db:
            db.execute(
                "INSERT INTO dispositions VALUES (:call_id, :reference, :queue, :member, :user,"
                " :disposition, :note, :at) ON CONFLICT (call_id) DO UPDATE SET"
                " disposition = excluded.disposition, note = excluded.note, at = excluded.at,"
                " user = excluded.user",
                {**row.__dict__, "note": row.note or None})

    def get(self, call_id: str) -> Disposition | None:
        with self._db() as db:
            found = db.execute("SELECT * FROM dispositions WHERE call_id = ?",
                               (call_id,)).fetchone()
        return Disposition(**dict(found)) if found else None


def apply_retention(path: Path, action: str, before: datetime) -> int:
    """`balagh reports redact|purge`: a note may hold what a caller said, so redact empties
    the notes of dispositions saved before `before` (the disposition, a word from the list,
    stays counted); purge deletes those rows. No file: nothing to do."""
    if not Path(path).exists():
        return 0
    statement = ("UPDATE dispositions SET note = NULL WHERE at < ? AND note IS NOT NULL"
                 if action == "redact" else "DELETE FROM dispositions WHERE at < ?")
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        with db:
            db.executescript(SCHEMA)  # a console.sqlite3 from before the table
            return db.execute(statement, (iso(before),)).rowcount
    finally:
        db.close()


def now_iso() -> str:
    return iso(datetime.now(UTC))


__all__ = ["Disposition", "DispositionBook", "DispositionError", "apply_retention", "now_iso"]
