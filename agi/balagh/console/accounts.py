"""console.sqlite3: the console's users, sessions and audit, in a file of their own.

Kept apart from the report store on purpose: the console's schema changes never touch
the call path's database, and the console opens that one read-only. Plain sqlite3 with a
short busy timeout: a few small rows per request, microseconds each; the web layer calls
it from threads of its own (offloop.py), never from the event loop.

Wrong passwords are counted per client address and user name (login_tries), one atomic
upsert per attempt *before* the password is checked: parallel tries each count, and a
stranger's tries from another address never lock the real user out.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from balagh.store.permissions import make_private, make_private_folder

from .access import ROLES, ConsoleUser, member_problem
from .clients import throttle_key
from .csrf import new_token
from .passwords import hash_password, verify_password

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name        TEXT PRIMARY KEY,
    password    TEXT NOT NULL,          -- scrypt$...: never the password
    role        TEXT NOT NULL,          -- supervisor | admin | agent
    supervisor  TEXT,                   -- their name in supervisors.yaml
    created_at  TEXT NOT NULL,
    changed_at  TEXT NOT NULL,
    member      TEXT                    -- an agent's queue member interface (PJSIP/agent1)
);
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,       -- sha256 of the cookie: a copy of this file logs nobody in
    user        TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    seen_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    user        TEXT,
    action      TEXT NOT NULL,          -- login-ok | login-failed | login-locked | logout | ...
    detail      TEXT,                   -- JSON
    remote      TEXT
);
CREATE INDEX IF NOT EXISTS audit_user ON audit (user, id);
CREATE TABLE IF NOT EXISTS login_tries (
    remote      TEXT NOT NULL,          -- the client's address (an IPv6 client's /64)
    user        TEXT NOT NULL,          -- the name tried, known or not
    tries       INTEGER NOT NULL,       -- attempts since `since` without a success
    since       TEXT NOT NULL,          -- the first of them: the window runs from here
    PRIMARY KEY (remote, user)
);
CREATE INDEX IF NOT EXISTS login_tries_since ON login_tries (since);
"""
BUSY_TIMEOUT_SECONDS = 1.0  # a locked file makes one request wait this long, then 503

# One attempt more for (remote, user), in one statement: parallel attempts each count.
# A window that has run out starts again at 1.
_COUNT_TRY = """
INSERT INTO login_tries (remote, user, tries, since) VALUES (:remote, :user, 1, :now)
ON CONFLICT (remote, user) DO UPDATE SET
    tries = CASE WHEN since < :window_start THEN 1 ELSE tries + 1 END,
    since = CASE WHEN since < :window_start THEN :now ELSE since END
RETURNING tries, since
"""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Session:
    user: ConsoleUser
    csrf: str


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    user: str | None
    action: str
    detail: dict[str, Any]
    remote: str | None


class Accounts:
    def __init__(self, path: Path, *, session_minutes: int = 480, lockout_attempts: int = 5,
                 lockout_minutes: int = 15,
                 busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = Path(path)
        self.session_minutes = session_minutes
        self.lockout_attempts = lockout_attempts
        self.lockout_minutes = lockout_minutes
        self.busy_timeout_seconds = busy_timeout_seconds
        make_private_folder(self.path.parent)
        created = not self.path.exists()
        with self._db() as db:
            db.executescript(SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(users)")}
            if "member" not in columns:  # a console.sqlite3 from before the agent role
                db.execute("ALTER TABLE users ADD COLUMN member TEXT")
        if created:
            make_private([self.path])

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_seconds)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ users

    def add(self, name: str, password: str, role: str, supervisor: str | None,
            member: str | None = None) -> None:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if (role == "agent") != (member is not None):
            raise AccountError("an agent account needs its queue member (PJSIP/agent1),"
                               " and only an agent account has one")
        if member is not None and (problem := member_problem(member)):
            raise AccountError(problem)
        if not name or name != name.strip() or len(name) > 64:
            raise AccountError(f"not a user name: {name!r}")
        now = _iso(_now())
        try:
            with self._db() as db:
                db.execute("INSERT INTO users (name, password, role, supervisor, created_at,"
                           " changed_at, member) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (name, hash_password(password), role, supervisor, now, now, member))
        except sqlite3.IntegrityError:
            raise AccountError(f"user {name!r} exists already") from None
        self.audit(name, "user-added", {"role": role, "supervisor": supervisor,
                                        "member": member})

    def set_password(self, name: str, password: str) -> None:
        with self._db() as db:
            done = db.execute("UPDATE users SET password = ?, changed_at = ? WHERE name = ?",
                              (hash_password(password), _iso(_now()), name)).rowcount
            if done:  # a new password ends every session of the old one
                db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        if not done:
            raise AccountError(f"no user {name!r}")
        self.audit(name, "password-changed")

    def remove(self, name: str) -> None:
        with self._db() as db:
            done = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        if not done:
            raise AccountError(f"no user {name!r}")
        self.audit(name, "user-removed")

    def users(self) -> list[ConsoleUser]:
        with self._db() as db:
            rows = db.execute("SELECT name, role, supervisor, member FROM users"
                              " ORDER BY name").fetchall()
        return [ConsoleUser(row["name"], row["role"], row["supervisor"], row["member"])
                for row in rows]

    def user(self, name: str) -> ConsoleUser | None:
        return next((u for u in self.users() if u.name == name), None)

    # ------------------------------------------------------------------ login

    def _count_try(self, remote: str, name: str, now: datetime) -> tuple[int, datetime]:
        """This attempt counted; how many in the window so far and when the window began."""
        window_start = _iso(now - timedelta(minutes=self.lockout_minutes))
        with self._db() as db:
            db.execute("DELETE FROM login_tries WHERE since < ?", (window_start,))
            row = db.execute(_COUNT_TRY, {"remote": remote, "user": name, "now": _iso(now),
                                          "window_start": window_start}).fetchone()
        return row["tries"], datetime.fromisoformat(row["since"].replace("Z", "+00:00"))

    def login(self, name: str, password: str, remote: str | None,
              now: datetime | None = None) -> tuple[str, Session] | str:
        """A new session's cookie value and the session, or why not (audited either way):
        'locked' (too many tries from this address for this name: the password is not
        even checked) or 'wrong' (an unknown user and a wrong password look the same)."""
        now = now or _now()
        client, tried = throttle_key(remote), name[:64]  # bounded keys for the table
        tries, since = self._count_try(client, tried, now)
        if tries > self.lockout_attempts:
            until = since + timedelta(minutes=self.lockout_minutes)
            self.audit(tried, "login-locked", {"tries": tries, "until": _iso(until)},
                       remote=remote, at=now)
            return "locked"
        with self._db() as db:
            row = db.execute("SELECT name, password, role, supervisor, member FROM users"
                             " WHERE name = ?", (name,)).fetchone()
        # A hash is checked even for an unknown user: the answer takes the same time.
        hashed = row["password"] if row else _DUMMY_HASH
        if not verify_password(password, hashed) or row is None:
            self.audit(tried, "login-failed", {"tries": tries}, remote=remote, at=now)
            return "wrong"
        token = secrets.token_urlsafe(32)
        session = Session(ConsoleUser(row["name"], row["role"], row["supervisor"],
                                      row["member"]), new_token())
        with self._db() as db:
            db.execute("DELETE FROM login_tries WHERE remote = ? AND user = ?", (client, tried))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                       (_digest(token), name, session.csrf, _iso(now), _iso(now)))
        self.audit(name, "login-ok", remote=remote, at=now)
        return token, session

    def session(self, token: str | None, now: datetime | None = None) -> Session | None:
        """The live session behind a cookie value; None if unknown or expired."""
        if not token:
            return None
        now = now or _now()
        oldest = _iso(now - timedelta(minutes=self.session_minutes))
        with self._db() as db:
            row = db.execute(
                "SELECT s.csrf, u.name, u.role, u.supervisor, u.member FROM sessions s"
                " JOIN users u"
                " ON u.name = s.user WHERE s.id = ? AND s.seen_at >= ?",
                (_digest(token), oldest)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", (_iso(now), _digest(token)))
        return Session(ConsoleUser(row["name"], row["role"], row["supervisor"], row["member"]),
                       row["csrf"])

    def logout(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (_digest(token),))

    # ------------------------------------------------------------------ audit

    def audit(self, user: str | None, action: str, detail: dict[str, Any] | None = None,
              remote: str | None = None, at: datetime | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO audit (at, user, action, detail, remote)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (_iso(at or _now()), user, action,
                        json.dumps(detail or {}, ensure_ascii=False, sort_keys=True), remote))

    def audit_rows(self, limit: int = 100, user: str | None = None) -> list[AuditRow]:
        where, params = ("WHERE user = ?", [user]) if user else ("", [])
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?",
                              (*params, int(limit))).fetchall()
        return [AuditRow(row["id"], row["at"], row["user"], row["action"],
                         json.loads(row["detail"] or "{}"), row["remote"]) for row in rows]


_DUMMY_HASH = hash_password("not a password of anyone's")

__all__ = ["AccountError", "Accounts", "AuditRow", "Session"]
