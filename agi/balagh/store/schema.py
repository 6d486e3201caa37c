"""SQLite schema and migrations, versioned with PRAGMA user_version.

Migrations are append-only: MIGRATIONS[n] takes a database from version n to
n + 1. Never edit a migration that has shipped; add a new one.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from . import daily

# Times are ISO-8601 UTC text from the call path, never the database clock.
# answers.call_id is deliberately not a foreign key: if the report row could
# not be written, the caller's answers are still worth keeping.
_V1 = """
CREATE TABLE reports (
    id            INTEGER PRIMARY KEY,
    call_id       TEXT    NOT NULL UNIQUE,
    reference     TEXT    NOT NULL UNIQUE,
    channel       TEXT    NOT NULL,
    caller        TEXT,                -- NULL when the number is withheld
    hotline       TEXT,
    language      TEXT,
    status        TEXT    NOT NULL,
    status_detail TEXT,
    rule          TEXT,
    queue         TEXT,
    priority      INTEGER,
    started_at    TEXT    NOT NULL,
    routed_at     TEXT,
    ended_at      TEXT,
    updated_at    TEXT    NOT NULL
);
-- list_reports: newest first
CREATE INDEX reports_started_at ON reports (started_at);

CREATE TABLE answers (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT    NOT NULL,
    question    TEXT    NOT NULL,
    value       TEXT,
    key         TEXT,                  -- the key(s) pressed, as given
    attempt     INTEGER NOT NULL,
    answered_at TEXT    NOT NULL
);
-- get_report: every answer of one call, in order
CREATE INDEX answers_call_id ON answers (call_id, id);
"""

# v2: where the caller is (and how we know it), and the routing table's reload history.
_V2 = """
ALTER TABLE reports ADD COLUMN location TEXT;          -- emirate, when known
-- location_source: answer | geolocation | number-prefix | unknown
ALTER TABLE reports ADD COLUMN location_source TEXT;

CREATE TABLE routing_reloads (
    id       INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    file     TEXT    NOT NULL,
    sha256   TEXT,                       -- of the file as read; NULL if unreadable
    trigger  TEXT    NOT NULL,           -- startup | sighup | file-change | ...
    outcome  TEXT    NOT NULL,           -- applied | refused
    rules    INTEGER,
    error    TEXT
);
CREATE INDEX routing_reloads_at ON routing_reloads (at);
"""

# v3: what happened in the queue (from AMI): who answered, after how long, or abandoned.
_V3 = """
ALTER TABLE reports ADD COLUMN queue_outcome TEXT;     -- answered | abandoned
ALTER TABLE reports ADD COLUMN joined_queue TEXT;      -- the last queue the caller waited in
ALTER TABLE reports ADD COLUMN answered_by TEXT;       -- the queue member's name
ALTER TABLE reports ADD COLUMN answered_at TEXT;
ALTER TABLE reports ADD COLUMN wait_seconds INTEGER;   -- in the queue, before answer or abandon
ALTER TABLE reports ADD COLUMN talk_seconds INTEGER;
"""

# v4: who listened in on which call (supervisors), append-only: refusals, PIN checks,
# start, mode changes (listen | whisper | barge) and end of each monitoring session.
_V4 = """
CREATE TABLE monitor_audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    session     TEXT,                  -- one monitoring call (its channel id)
    supervisor  TEXT,                  -- NULL when the phone is nobody's
    phone       TEXT,
    action      TEXT    NOT NULL,      -- refused | pin-ok | start | mode | end
    reference   TEXT,                  -- the report listened in on
    agent       TEXT,
    mode        TEXT,                  -- listen | whisper | barge
    detail      TEXT                   -- for refused: unknown-phone | wrong-pin | locked | ...
);
CREATE INDEX monitor_audit_reference ON monitor_audit (reference, id);
CREATE INDEX monitor_audit_supervisor ON monitor_audit (supervisor, id);
"""

# v5: the outbox of report events pushed to the units' own systems (handover/outbox.py).
# One row per event and endpoint (UNIQUE: queued once however often it is published);
# the body is the document exactly as signed and sent. Secrets are never stored here.
_V5 = """
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL,  -- the idempotency key: REFERENCE:EVENT
    url             TEXT    NOT NULL,
    body            TEXT    NOT NULL,  -- the JSON document, serialised once
    event           TEXT    NOT NULL,  -- routed | answered | abandoned | ended
    reference       TEXT,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    status          TEXT    NOT NULL,  -- pending | delivered | failed
    UNIQUE (key, url)
);
-- the worker: pending rows that are due, oldest first
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
"""

# v6: a keyed hash of the caller's number (HMAC, a key per installation), so repeat callers
# are recognised even after retention has forgotten the numbers; withheld numbers: NULL.
_V6 = """
ALTER TABLE reports ADD COLUMN caller_hash TEXT;
CREATE INDEX reports_caller_hash ON reports (caller_hash, started_at);
"""

# v7: nothing lost, everything counted (issue 12).
# - report_events: the append-only timeline of each report, in time order;
# - reports.typed_ahead / gave_up_in: what the statistics split and count by;
# - spool_applied: ids of writes replayed from the spool file, so each lands exactly once;
# - maintenance_runs: every purge, redact, vacuum and backup, with the rows really changed.
_V7 = """
CREATE TABLE report_events (
    id      INTEGER PRIMARY KEY,
    call_id TEXT    NOT NULL,   -- reports.call_id (Asterisk's Uniqueid of the caller)
    at      TEXT    NOT NULL,
    kind    TEXT    NOT NULL,   -- answer | routed | queue_join | overflow | answered | ...
    detail  TEXT                -- a JSON object, never a caller's number
);
CREATE INDEX report_events_call ON report_events (call_id, at, id);
CREATE INDEX report_events_kind ON report_events (kind, at);

-- 1 when the caller's last key came before the prompt asked for it, 0 when not
ALTER TABLE reports ADD COLUMN typed_ahead INTEGER;
-- the question being asked when a caller hung up in the IVR
ALTER TABLE reports ADD COLUMN gave_up_in TEXT;
CREATE INDEX reports_routed_at ON reports (routed_at);

CREATE TABLE spool_applied (
    id         TEXT PRIMARY KEY,  -- the write's id in the spool file
    applied_at TEXT NOT NULL
);

CREATE TABLE maintenance_runs (
    id       INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    action   TEXT    NOT NULL,  -- purge | redact | vacuum | backup
    before   TEXT,              -- the cut-off, for purge and redact
    rows     INTEGER,           -- rows really changed
    outcome  TEXT    NOT NULL,  -- done | failed
    detail   TEXT
);
"""

# v8: what the statistics read without computing it per call (balagh stats, issue 12):
# - reports.to_queue_tenths: tenths of a second from started_at to routed_at, set with
#   routed_at by the call path (store/calls.py, the same expression), filled here for the
#   reports already routed;
# - answers_danger: a partial index of the few answers that say the caller is in danger.
#   Its WHERE must stay the same text as the statistics' query (readmodel/statistics.py, with
#   routing.model's DANGER_QUESTION and DANGER_ANSWER) for SQLite to use it.
_V8 = """
ALTER TABLE reports ADD COLUMN to_queue_tenths INTEGER;
UPDATE reports SET to_queue_tenths =
    CAST(round((julianday(routed_at) - julianday(started_at)) * 864000.0) AS INTEGER)
    WHERE routed_at IS NOT NULL;
CREATE INDEX answers_danger ON answers (call_id) WHERE question = 'danger' AND value = 'yes';
"""

# v9: stats_daily, the statistics' per-day counts, filled from the reports already there
# and kept by triggers in the same transaction as every later write (store/daily.py).
_V9 = daily.migration_v9()

# v10: the same counts per UTC hour (stats_hourly) in place of v9's per UTC day, so the
# statistics serve the days of any whole-hour zone from them (store/daily.py).
_V10 = daily.migration_v10()

# v11: texts to callers who said it is safe (reachback/sms.py, store/sms.py): a table of
# its own, not the outbox's, because a text holds the caller's number and its words
# (redacted with the report) and a delivery-report token, where an outbox row holds a
# signed document for a unit's URL.
_V11 = """
CREATE TABLE sms_outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,   -- REFERENCE:EVENT: one text per event
    reference       TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    language        TEXT,
    token           TEXT    NOT NULL UNIQUE,   -- in the delivery report's URL
    destination     TEXT,                      -- the number, once sent; NULL once redacted
    text            TEXT,                      -- the words, once sent; NULL once redacted
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    reported_at     TEXT,                      -- the last delivery report
    report_code     INTEGER,                   -- Kannel's dlr type of that report
    last_error      TEXT,
    status          TEXT    NOT NULL
);
CREATE INDEX sms_outbox_due ON sms_outbox (status, next_attempt_at);
CREATE INDEX sms_outbox_reference ON sms_outbox (reference);
CREATE INDEX sms_outbox_created ON sms_outbox (created_at);
"""

# v12: the units' follow-up of a report (reachback/followup*, store/followups.py): every
# status a unit sent, one row per signed request id (a copy of an id is not a second row),
# and the latest on the report itself for the lists.
_V12 = """
CREATE TABLE report_statuses (
    seq        INTEGER PRIMARY KEY,
    unit       TEXT    NOT NULL,   -- the secret's name the request was signed with
    id         TEXT    NOT NULL,   -- the signature's id: the unit's idempotency key
    reference  TEXT    NOT NULL,
    call_id    TEXT    NOT NULL,
    queue      TEXT,
    status     TEXT    NOT NULL,   -- received | in_progress | resolved | closed
    reason     TEXT,               -- the unit's words; redaction empties it
    signed_at  TEXT    NOT NULL,   -- the signature's t
    at         TEXT    NOT NULL,   -- when Balagh took it
    UNIQUE (unit, id)
);
CREATE INDEX report_statuses_reference ON report_statuses (reference, seq);
CREATE INDEX report_statuses_at ON report_statuses (at);
ALTER TABLE reports ADD COLUMN followup_status TEXT;
"""


# v13: agents' activity from app_queue's AMI events (store/agents.py, ami/agent_events.py),
# for the per-agent figures (readmodel/agents.py); the same table in postgres_schema.py.
AGENT_EVENTS = """
CREATE TABLE agent_events (
    id             INTEGER PRIMARY KEY,
    at             TEXT    NOT NULL,
    agent          TEXT    NOT NULL,  -- the queue member's name (else its interface)
    queue          TEXT,              -- the routing queue
    kind           TEXT    NOT NULL,  -- store/agents.py's AgentEventKind
    call_id        TEXT,              -- the caller's Uniqueid
    ring_seconds   INTEGER,
    hold_seconds   INTEGER,
    talk_seconds   INTEGER,
    wrapup_seconds INTEGER,
    reason         TEXT,
    status         TEXT
);
CREATE INDEX agent_events_at ON agent_events (at);
CREATE INDEX agent_events_pauses ON agent_events (agent, at)
    WHERE kind IN ('paused', 'unpaused', 'removed');
"""
_V13 = AGENT_EVENTS


# v14: callbacks to callers in danger who hung up while waiting, with consent
# (reachback/callbacks.py, store/callbacks.py). No number in it: the dialler reads the
# report's at the moment it dials, so a redacted report is never dialled.
_V14 = """
CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY,
    reference       TEXT    NOT NULL UNIQUE,   -- one callback per abandoned report
    call_id         TEXT    NOT NULL,
    queue           TEXT    NOT NULL,          -- the queue they left, and rejoin
    created_at      TEXT    NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 0, -- attempts claimed so far
    next_attempt_at TEXT    NOT NULL,
    status          TEXT    NOT NULL,          -- pending claimed dialling answered ...
    channel_id      TEXT,                      -- the attempt's Originate ChannelId
    last_outcome    TEXT,
    updated_at      TEXT    NOT NULL,
    cancelled_by    TEXT
);
CREATE INDEX callbacks_due ON callbacks (status, next_attempt_at);
CREATE INDEX callbacks_created ON callbacks (created_at);
"""

# v15: the satisfaction call's answers (reachback's survey, store/survey.py): one row per
# report and question; answer NULL when the callee pressed no key. No number and no words
# in it (an answer is a value from config/reachback.yaml): purged with its report.
SURVEY_ANSWERS = """
CREATE TABLE survey_answers (
    id        INTEGER PRIMARY KEY,
    reference TEXT    NOT NULL,
    call_id   TEXT    NOT NULL,
    queue     TEXT,              -- the queue the report was routed to
    unit      TEXT    NOT NULL,  -- the unit that said "resolved" (its secret's name)
    question  INTEGER NOT NULL,  -- its place in the survey's questions, from 0
    prompt    TEXT    NOT NULL,  -- the question's prompt id
    answer    TEXT,              -- the value of the key pressed; NULL: unanswered
    asked_at  TEXT    NOT NULL,
    UNIQUE (reference, question)
);
CREATE INDEX survey_answers_asked ON survey_answers (asked_at);
"""
# ... and the satisfaction calls themselves: the callbacks' columns and life
# (store/callbacks.py's Purpose SURVEY), one per resolved report, no number in it.
SURVEY_CALLS = _V14.replace("callbacks", "survey_calls")
_V15 = SURVEY_ANSWERS + SURVEY_CALLS

# The node whose Asterisk carried a monitoring session (an app beside each node, nodes:
# in balagh.yaml); NULL on a one-box site, as every row before it.
_MONITOR_NODE = """
ALTER TABLE monitor_audit ADD COLUMN node TEXT;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11,
                                _V12, _V13, _V14, _V15, _MONITOR_NODE)
VERSION = len(MIGRATIONS)


class SchemaError(Exception):
    """The database cannot be used by this version of Balagh."""


def unusable(path: Path, exc: BaseException) -> SchemaError:
    """One line saying why the database at `path` cannot be used, and what to do."""
    if isinstance(exc, SchemaError):
        return SchemaError(f"{path}: {exc}: run the Balagh version that wrote it, or "
                           "restore a backup made by this one")
    return SchemaError(f"{path}: not a usable Balagh database ({exc}): restore it from a "
                       "backup, or move it away to start an empty one")


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


# The summary each counting step makes (v9: stats_daily, v10: stats_hourly).
COUNTING_STEPS = {9: daily.DAILY, daily.SINCE_VERSION: daily.HOURLY}


def unfinished(version: int) -> str:
    """Statements dropping what an interrupted `balagh db migrate` (live_migration.py) left
    of step `version` -> +1: it makes v9's (v10's) table and triggers before it counts
    the reports, and moves user_version only at the end. Nothing else makes them before."""
    summary = COUNTING_STEPS.get(version + 1)
    if summary is None:
        return ""
    drops = "".join(f"DROP TRIGGER IF EXISTS {name};\n"
                    for name in daily.trigger_names(summary))
    drops += f"DROP TABLE IF EXISTS {summary.table};\n"
    if summary is daily.DAILY:
        drops += "DROP TABLE IF EXISTS stats_daily_bulk;\n"
    return drops


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply pending migrations, each atomically; return the resulting version."""
    current = await user_version(conn)
    if current > VERSION:
        raise SchemaError(
            f"database schema version {current} is newer than this Balagh ({VERSION})"
        )
    for version in range(current, VERSION):
        # One transaction per step, so a failed step leaves the previous version intact.
        try:
            await conn.executescript(
                f"BEGIN;\n{unfinished(version)}{MIGRATIONS[version]}\n"
                f"PRAGMA user_version = {version + 1};\nCOMMIT;"
            )
        except Exception:
            await conn.rollback()
            raise
    return VERSION
