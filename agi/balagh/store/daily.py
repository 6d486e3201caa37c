"""stats_daily: the statistics' per-day counts, kept by SQLite triggers (schema v9).

`balagh stats` needs, for each grouping, how many calls had each status/outcome/wait
code, each give-up question, each answer-to-queue code and, for danger calls, each
status/outcome/wait code. Counting them from a million reports takes seconds; this
table keeps those counts per UTC day and per grouping value, so a month is a few
hundred thousand small rows summed by SQLite at most.

Triggers on reports and answers keep it right in the same transaction as every write
that changes a report's figures, whoever writes: the app's writer, the spool's replay
(exactly once through spool_applied, like any write), a danger answer added or removed,
or a person with the sqlite3 shell: nothing needs to remember to update it. Purge and
redact (maintenance.py) count each chunk of reports they delete or change in one grouped
statement of their own, in the chunk's transaction, while the triggers stand aside: a
redacted report moves to the emirate `(unknown)`, as the report itself now says.

The counts are exact: waits are whole seconds and answer-to-queue times whole tenths,
so the codes are the values themselves, not buckets. A row per grouping value rather
than per combination of values: each `--by` groups on one at a time, and combinations
would hold nearly one row per call.

Part of migration v9: once shipped, change this only with a new migration.
"""

from __future__ import annotations

import sqlite3

from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

SINCE_VERSION = 9  # the schema version that made the table
NOT_ROUTED = "(not routed)"
UNKNOWN = "(unknown)"
# dim -> the report's value for it; 'day' rows hold the whole day ('' as value).
DIMS: dict[str, str] = {
    "day": "''",
    "queue": f"coalesce({{r}}.queue, '{NOT_ROUTED}')",
    "category": f"coalesce({{r}}.rule, '{NOT_ROUTED}')",
    "emirate": f"coalesce({{r}}.location, '{UNKNOWN}')",
    "language": f"coalesce({{r}}.language, '{UNKNOWN}')",
}
CALLS, GIVE_UPS, TO_QUEUE, DANGER = 0, 1, 2, 3  # stats_daily.kind
# status + 4 * outcome + 16 * (wait + 1), wait 0 standing for none: stats/query.py's code
CALL_CODE = ("((CASE {r}.status WHEN 'routed' THEN 0 WHEN 'fallback' THEN 1"
             " WHEN 'hung_up_in_ivr' THEN 2 ELSE 3 END)"
             " + 4 * (CASE WHEN {r}.queue_outcome IS NULL THEN 0 WHEN {r}.queue_outcome ="
             " 'answered' THEN 1 WHEN {r}.queue_outcome = 'abandoned' THEN 2 ELSE 3 END)"
             " + 16 * coalesce(max({r}.wait_seconds, 0) + 1, 0))")
# The literals make SQLite use schema v8's partial index answers_danger.
IS_DANGER = ("EXISTS (SELECT 1 FROM answers WHERE call_id = {r}.call_id AND"
             f" question = '{DANGER_QUESTION}' AND value = '{DANGER_ANSWER}')")
CODES: dict[int, str] = {
    CALLS: CALL_CODE,
    GIVE_UPS: f"CASE WHEN {{r}}.status = 'hung_up_in_ivr' THEN coalesce({{r}}.gave_up_in,"
              f" '{UNKNOWN}') END",
    TO_QUEUE: "CASE WHEN {r}.to_queue_tenths IS NOT NULL AND {r}.typed_ahead IS NOT NULL"
              " THEN 2 * {r}.to_queue_tenths + ({r}.typed_ahead != 0) END",
    DANGER: f"CASE WHEN {IS_DANGER} THEN {CALL_CODE} END",
}
# Every column a code or a dim reads: an UPDATE of any other column changes no figure.
COLUMNS = ("call_id", "started_at", "status", "queue_outcome", "wait_seconds", "queue",
           "rule", "location", "language", "typed_ahead", "to_queue_tenths", "gave_up_in")

TABLE = """
CREATE TABLE stats_daily (
    dim   TEXT    NOT NULL,  -- day | queue | category | emirate | language
    day   TEXT    NOT NULL,  -- YYYY-MM-DD, the UTC day the call started
    value TEXT    NOT NULL,  -- the grouping's value ('' for day)
    kind  INTEGER NOT NULL,  -- 0 calls, 1 give-ups, 2 answer to queue, 3 danger calls
    code,                    -- the kind's code (an integer; the question for give-ups)
    n     INTEGER NOT NULL,  -- calls; 0 once they were purged or moved
    PRIMARY KEY (dim, day, value, kind, code)
) WITHOUT ROWID;
"""


def _case(mapping: dict[str, str] | dict[int, str], column: str, r: str) -> str:
    whens = " ".join(f"WHEN {key!r} THEN {sql.format(r=r)}" if isinstance(key, str)
                     else f"WHEN {key} THEN {sql.format(r=r)}" for key, sql in mapping.items())
    return f"CASE {column} {whens} END"


def _values(items: list[str] | list[int], name: str) -> str:
    return " UNION ALL ".join(f"SELECT {item!r} AS {name}" if isinstance(item, str)
                              else f"SELECT {item} AS {name}" for item in items)


def _select(r: str, n: str, kinds: list[int], source: str = "",
            codes: dict[int, str] = CODES, dims: list[str] | None = None) -> str:
    """Rows (dim, day, value, kind, code, n) for report `r` (NEW, OLD, or a table alias)."""
    return (f"SELECT d.dim, substr({r}.started_at, 1, 10) AS day,"
            f" {_case(DIMS, 'd.dim', r)} AS value, k.kind,"
            f" {_case(codes, 'k.kind', r)} AS code, {n} AS n"
            f" FROM {source}({_values(dims or list(DIMS), 'dim')}) AS d,"
            f" ({_values(kinds, 'kind')}) AS k WHERE code IS NOT NULL")


_UPSERT = ("INSERT INTO stats_daily (dim, day, value, kind, code, n) {select}"
           " ON CONFLICT (dim, day, value, kind, code) DO UPDATE SET n = n + excluded.n;")
ALL_KINDS = [CALLS, GIVE_UPS, TO_QUEUE, DANGER]


def _add(r: str, sign: int) -> str:
    return _UPSERT.format(select=_select(r, str(sign), ALL_KINDS))


def _move(old: str, new: str) -> str:
    """Subtract `old`'s rows and add `new`'s, writing only the rows that change: most
    updates move a report in one grouping (its queue, its status...) if in any."""
    both = f"{_select(old, '-1', ALL_KINDS)} UNION ALL {_select(new, '1', ALL_KINDS)}"
    changed = (f"SELECT * FROM (SELECT dim, day, value, kind, code, sum(n) AS n FROM ({both})"
               " GROUP BY dim, day, value, kind, code) WHERE n != 0")
    return _UPSERT.format(select=changed)


def _danger_of(call_id: str, sign: int) -> str:
    """The danger rows of the report of `call_id` (if there is one yet), +1 or -1."""
    # The call's code as such: when the last danger answer went, IS_DANGER is false already.
    select = _select("r", str(sign), [DANGER], "reports AS r, ", {DANGER: CALL_CODE})
    return _UPSERT.format(select=f"{select} AND r.call_id = {call_id}")


def _is_danger(a: str) -> str:
    return f"({a}.question = '{DANGER_QUESTION}' AND {a}.value = '{DANGER_ANSWER}')"


def _danger_answers(call_id: str) -> str:
    return (f"(SELECT count(*) FROM answers WHERE call_id = {call_id} AND"
            f" question = '{DANGER_QUESTION}' AND value = '{DANGER_ANSWER}')")


# Purge and redact change hundreds of reports per chunk: row by row the triggers would
# write ~20 rows per report. Inside their own transaction (never seen by another
# connection) they put a row here, count the chunk's reports in one grouped statement
# (count_reports) and take the row away; meanwhile the triggers stand aside.
BULK_TABLE = """
CREATE TABLE stats_daily_bulk (id INTEGER PRIMARY KEY);
"""
BULK_ON = "INSERT INTO stats_daily_bulk (id) VALUES (1)"
BULK_OFF = "DELETE FROM stats_daily_bulk"
_KEPT = "NOT EXISTS (SELECT 1 FROM stats_daily_bulk)"


def count_reports(sign: int, ids: int, dims: list[str] | None = None) -> str:
    """Add (+1) or subtract (-1) the reports of `ids` placeholders (reports.id), grouped;
    only in `dims` when the others do not change (redact changes only the emirate)."""
    select = _select("r", f"{sign} * count(*)", ALL_KINDS, "reports AS r, ", dims=dims)
    marks = ", ".join("?" * ids)
    return _UPSERT.format(select=f"SELECT * FROM ({select} AND r.id IN ({marks})"
                                 " GROUP BY 1, 2, 3, 4, 5) WHERE true")


def triggers() -> str:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    return f"""
CREATE TRIGGER stats_daily_insert AFTER INSERT ON reports WHEN {_KEPT} BEGIN
    {_add('NEW', 1)}
END;
CREATE TRIGGER stats_daily_delete AFTER DELETE ON reports WHEN {_KEPT} BEGIN
    {_add('OLD', -1)}
END;
CREATE TRIGGER stats_daily_update AFTER UPDATE OF {', '.join(COLUMNS)} ON reports
WHEN {_KEPT} AND ({changed}) BEGIN
    {_move('OLD', 'NEW')}
END;
-- A report is a danger call while it has at least one danger answer: the first one
-- added makes it one, the last one removed (purge, a correction) unmakes it.
CREATE TRIGGER stats_daily_danger_added AFTER INSERT ON answers
WHEN {_KEPT} AND {_is_danger('NEW')} AND {_danger_answers('NEW.call_id')} = 1 BEGIN
    {_danger_of('NEW.call_id', 1)}
END;
CREATE TRIGGER stats_daily_danger_removed AFTER DELETE ON answers
WHEN {_KEPT} AND {_is_danger('OLD')} AND {_danger_answers('OLD.call_id')} = 0 BEGIN
    {_danger_of('OLD.call_id', -1)}
END;
CREATE TRIGGER stats_daily_danger_changed_from AFTER UPDATE OF call_id, question, value
ON answers WHEN {_KEPT} AND {_is_danger('OLD')} AND {_danger_answers('OLD.call_id')} = 0 BEGIN
    {_danger_of('OLD.call_id', -1)}
END;
CREATE TRIGGER stats_daily_danger_changed_to AFTER UPDATE OF call_id, question, value
ON answers WHEN {_KEPT} AND {_is_danger('NEW')} AND {_danger_answers('NEW.call_id')} = 1
AND NOT ({_is_danger('OLD')} AND OLD.call_id = NEW.call_id) BEGIN
    {_danger_of('NEW.call_id', 1)}
END;
"""


def backfill() -> str:
    """Counts every report already there, one kind at a time (each a sort SQLite can
    hold), rather than through the triggers a row at a time."""
    return "\n".join(
        "INSERT INTO stats_daily (dim, day, value, kind, code, n) "
        f"{_select('r', 'count(*)', [kind], 'reports AS r, ')} GROUP BY 1, 2, 3, 4, 5;"
        for kind in ALL_KINDS)


def migration() -> str:
    return TABLE + BULK_TABLE + backfill() + triggers()


# Rows whose calls were all purged (n = 0) of the days a purge chunk touched: the
# triggers only subtract, and a year of purged days would otherwise stay as zeros.
FORGET_ZEROS = (f"DELETE FROM stats_daily WHERE dim IN ({', '.join(map(repr, DIMS))})"
                " AND day >= ? AND day <= ? AND n = 0")


def kept(db: sqlite3.Connection) -> bool:
    """The database has stats_daily (a file older than v9, not yet opened by the app, not)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0]) >= SINCE_VERSION
