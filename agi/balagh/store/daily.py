"""stats_hourly: the statistics' counts per UTC hour, kept by SQLite triggers (schema v10;
v9's stats_daily held them per UTC day).

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

Why hours (v10): the statistics count the hotline's days, and a zone's day is a run of
whole UTC hours when its offset is whole hours, DST included (Asia/Dubai's day starts at
20:00 UTC, Europe/London's at 00:00 or 23:00): the reader sums an hour's rows into the
zone's day they fall in (readmodel/daily_counts.py). A half-hour zone (Asia/Kolkata) is
counted from the reports themselves. A day is 24 hours of rows rather than one, but the
codes repeat within a day: about 5 times v9's rows, not 24.

Migrations v9 and v10 are made here: once shipped, change them only with a new migration
(V9 and its `migration` text stay as shipped; tests/unit/test_stats_hourly.py keeps v9's).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

SINCE_VERSION = 10  # the schema version that made the hourly table
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
CALLS, GIVE_UPS, TO_QUEUE, DANGER = 0, 1, 2, 3  # the table's kind
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



@dataclass(frozen=True)
class Summary:
    """One version of the table: its name, its time key and what makes the key."""

    table: str
    key: str      # the column: the UTC day (v9) or hour (v10) the call started
    key_sql: str  # the key from a report's started_at ({r}: NEW, OLD or an alias)
    ddl: str


DAILY = Summary("stats_daily", "day", "substr({r}.started_at, 1, 10)", """
CREATE TABLE stats_daily (
    dim   TEXT    NOT NULL,  -- day | queue | category | emirate | language
    day   TEXT    NOT NULL,  -- YYYY-MM-DD, the UTC day the call started
    value TEXT    NOT NULL,  -- the grouping's value ('' for day)
    kind  INTEGER NOT NULL,  -- 0 calls, 1 give-ups, 2 answer to queue, 3 danger calls
    code,                    -- the kind's code (an integer; the question for give-ups)
    n     INTEGER NOT NULL,  -- calls; 0 once they were purged or moved
    PRIMARY KEY (dim, day, value, kind, code)
) WITHOUT ROWID;
""")
# started_at is stored as ISO 8601 UTC text (store/timestamps.py): its first 13
# characters are the UTC hour, 2026-11-30T20.
HOURLY = Summary("stats_hourly", "hour", "substr({r}.started_at, 1, 13)", """
CREATE TABLE stats_hourly (
    dim   TEXT    NOT NULL,  -- day | queue | category | emirate | language
    hour  TEXT    NOT NULL,  -- YYYY-MM-DDTHH, the UTC hour the call started
    value TEXT    NOT NULL,  -- the grouping's value ('' for day)
    kind  INTEGER NOT NULL,  -- 0 calls, 1 give-ups, 2 answer to queue, 3 danger calls
    code,                    -- the kind's code (an integer; the question for give-ups)
    n     INTEGER NOT NULL,  -- calls; 0 once they were purged or moved
    PRIMARY KEY (dim, hour, value, kind, code)
) WITHOUT ROWID;
""")


def _case(mapping: dict[str, str] | dict[int, str], column: str, r: str) -> str:
    whens = " ".join(f"WHEN {key!r} THEN {sql.format(r=r)}" if isinstance(key, str)
                     else f"WHEN {key} THEN {sql.format(r=r)}" for key, sql in mapping.items())
    return f"CASE {column} {whens} END"


def _values(items: list[str] | list[int], name: str) -> str:
    return " UNION ALL ".join(f"SELECT {item!r} AS {name}" if isinstance(item, str)
                              else f"SELECT {item} AS {name}" for item in items)


def _select(r: str, n: str, kinds: list[int], source: str = "",
            codes: dict[int, str] = CODES, dims: list[str] | None = None,
            summary: Summary = HOURLY) -> str:
    """Rows (dim, key, value, kind, code, n) for report `r` (NEW, OLD, or a table alias)."""
    return (f"SELECT d.dim, {summary.key_sql.format(r=r)} AS {summary.key},"
            f" {_case(DIMS, 'd.dim', r)} AS value, k.kind,"
            f" {_case(codes, 'k.kind', r)} AS code, {n} AS n"
            f" FROM {source}({_values(dims or list(DIMS), 'dim')}) AS d,"
            f" ({_values(kinds, 'kind')}) AS k WHERE code IS NOT NULL")


def _upsert(summary: Summary, select: str) -> str:
    key = f"dim, {summary.key}, value, kind, code"
    return (f"INSERT INTO {summary.table} ({key}, n) {select}"
            f" ON CONFLICT ({key}) DO UPDATE SET n = n + excluded.n;")


ALL_KINDS = [CALLS, GIVE_UPS, TO_QUEUE, DANGER]


def _add(r: str, sign: int, summary: Summary) -> str:
    return _upsert(summary, _select(r, str(sign), ALL_KINDS, summary=summary))


def _move(old: str, new: str, summary: Summary) -> str:
    """Subtract `old`'s rows and add `new`'s, writing only the rows that change: most
    updates move a report in one grouping (its queue, its status...) if in any."""
    both = (f"{_select(old, '-1', ALL_KINDS, summary=summary)} UNION ALL"
            f" {_select(new, '1', ALL_KINDS, summary=summary)}")
    key = f"dim, {summary.key}, value, kind, code"
    changed = (f"SELECT * FROM (SELECT {key}, sum(n) AS n FROM ({both})"
               f" GROUP BY {key}) WHERE n != 0")
    return _upsert(summary, changed)


def _danger_of(call_id: str, sign: int, summary: Summary) -> str:
    """The danger rows of the report of `call_id` (if there is one yet), +1 or -1."""
    # The call's code as such: when the last danger answer went, IS_DANGER is false already.
    select = _select("r", str(sign), [DANGER], "reports AS r, ", {DANGER: CALL_CODE},
                     summary=summary)
    return _upsert(summary, f"{select} AND r.call_id = {call_id}")


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
    return _upsert(HOURLY, f"SELECT * FROM ({select} AND r.id IN ({marks})"
                                 " GROUP BY 1, 2, 3, 4, 5) WHERE true")


def triggers(summary: Summary = HOURLY) -> str:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    t, s = summary.table, summary
    return f"""
CREATE TRIGGER {t}_insert AFTER INSERT ON reports WHEN {_KEPT} BEGIN
    {_add('NEW', 1, s)}
END;
CREATE TRIGGER {t}_delete AFTER DELETE ON reports WHEN {_KEPT} BEGIN
    {_add('OLD', -1, s)}
END;
CREATE TRIGGER {t}_update AFTER UPDATE OF {', '.join(COLUMNS)} ON reports
WHEN {_KEPT} AND ({changed}) BEGIN
    {_move('OLD', 'NEW', s)}
END;
-- A report is a danger call while it has at least one danger answer: the first one
-- added makes it one, the last one removed (purge, a correction) unmakes it.
CREATE TRIGGER {t}_danger_added AFTER INSERT ON answers
WHEN {_KEPT} AND {_is_danger('NEW')} AND {_danger_answers('NEW.call_id')} = 1 BEGIN
    {_danger_of('NEW.call_id', 1, s)}
END;
CREATE TRIGGER {t}_danger_removed AFTER DELETE ON answers
WHEN {_KEPT} AND {_is_danger('OLD')} AND {_danger_answers('OLD.call_id')} = 0 BEGIN
    {_danger_of('OLD.call_id', -1, s)}
END;
CREATE TRIGGER {t}_danger_changed_from AFTER UPDATE OF call_id, question, value
ON answers WHEN {_KEPT} AND {_is_danger('OLD')} AND {_danger_answers('OLD.call_id')} = 0 BEGIN
    {_danger_of('OLD.call_id', -1, s)}
END;
CREATE TRIGGER {t}_danger_changed_to AFTER UPDATE OF call_id, question, value
ON answers WHEN {_KEPT} AND {_is_danger('NEW')} AND {_danger_answers('NEW.call_id')} = 1
AND NOT ({_is_danger('OLD')} AND OLD.call_id = NEW.call_id) BEGIN
    {_danger_of('NEW.call_id', 1, s)}
END;
"""


def trigger_names(summary: Summary) -> list[str]:
    return re.findall(r"CREATE TRIGGER (\w+)", triggers(summary))


def count_select(kind: int, summary: Summary = HOURLY) -> str:
    """Rows (dim, key, value, kind, code, n) counting the reports of `kind`, still to be
    given its GROUP BY: the backfill's SELECT (`balagh db migrate` adds a range of ids)."""
    return _select("r", "count(*)", [kind], "reports AS r, ", summary=summary)


def backfill(summary: Summary = HOURLY) -> str:
    """Counts every report already there, one kind at a time (each a sort SQLite can
    hold), rather than through the triggers a row at a time."""
    return "\n".join(
        f"INSERT INTO {summary.table} (dim, {summary.key}, value, kind, code, n) "
        f"{count_select(kind, summary)} GROUP BY 1, 2, 3, 4, 5;"
        for kind in ALL_KINDS)


def migration_v9() -> str:
    """Schema v9 as shipped: stats_daily, per UTC day."""
    return DAILY.ddl + BULK_TABLE + backfill(DAILY) + triggers(DAILY)


def drop_daily() -> str:
    """v9's table and triggers, which v10 replaces."""
    return ("".join(f"DROP TRIGGER IF EXISTS {name};\n" for name in trigger_names(DAILY))
            + "DROP TABLE IF EXISTS stats_daily;\n")


def migration_v10() -> str:
    """Schema v10: stats_hourly in place of stats_daily (the flag table stays)."""
    return drop_daily() + HOURLY.ddl + backfill(HOURLY) + triggers(HOURLY)


# Rows whose calls were all purged (n = 0) of the UTC days (first, last: YYYY-MM-DD) a
# purge chunk touched: the triggers only subtract, and a year of purged days would
# otherwise stay as zeros.
# Rows left at zero from one day up to (not including) another: a text both engines take.
FORGET_ZEROS = (f"DELETE FROM stats_hourly WHERE dim IN ({', '.join(map(repr, DIMS))})"
                " AND hour >= ? AND hour < ? AND n = 0")


def kept(db: sqlite3.Connection) -> bool:
    """The database has stats_hourly (a file older than v10, not yet opened by the app,
    not: its v9 triggers, if any, count each report themselves)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0]) >= SINCE_VERSION
