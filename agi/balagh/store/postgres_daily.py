"""stats_hourly on PostgreSQL: the same table and rows as SQLite's v10 (daily.py explains
them), kept by plpgsql row triggers with SQLite's rules, as one migration step
(postgres_schema.py).

The statements are made here from one template, as daily.py makes SQLite's, and sit inline
in the two trigger functions: plpgsql keeps each statement's plan for the session, where a
SQL-language function called per row would be planned again at every call (PostgreSQL 15),
which made a report's write several times slower. `code` is text here (one column type;
give-ups' codes are question names); the readers int() the others.

tests/unit/test_stats_engines.py writes the same random reports and changes to both engines
and compares the rows and the figures.
"""

from __future__ import annotations

from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

from .daily import COLUMNS, NOT_ROUTED, UNKNOWN

__all__ = ["STATS_HOURLY"]

_KEY = "dim, hour, value, kind, code"
_UPSERT = (f"INSERT INTO stats_hourly AS s ({_KEY}, n) {{rows}}"
           f" ON CONFLICT ({_KEY}) DO UPDATE SET n = s.n + excluded.n;")


def _is_danger(a: str) -> str:
    return f"({a}.question = '{DANGER_QUESTION}' AND {a}.value = '{DANGER_ANSWER}')"


def _danger_answers(call_id: str) -> str:
    return (f"(SELECT count(*) FROM answers AS a WHERE a.call_id = {call_id}"
            f" AND {_is_danger('a')})")


def _call_code(r: str) -> str:
    """daily.CALL_CODE, with CASE for SQLite's two-argument max() (NULL stays NULL)."""
    return (f"((CASE {r}.status WHEN 'routed' THEN 0 WHEN 'fallback' THEN 1"
            f" WHEN 'hung_up_in_ivr' THEN 2 ELSE 3 END)"
            f" + 4 * (CASE WHEN {r}.queue_outcome IS NULL THEN 0 WHEN {r}.queue_outcome ="
            f" 'answered' THEN 1 WHEN {r}.queue_outcome = 'abandoned' THEN 2 ELSE 3 END)"
            f" + 16 * coalesce((CASE WHEN {r}.wait_seconds < 0 THEN 0 ELSE {r}.wait_seconds END)"
            " + 1, 0))")


def _rows(r: str, danger: str, n: str, kinds: str = "0, 1, 2, 3", source: str = "") -> str:
    """Rows (dim, hour, value, kind, code, n) for report `r` (NEW, OLD or a table alias
    of `source`): one per grouping value and kind that has a code; `danger` says whether
    the report is a danger call."""
    return (
        f"SELECT d.dim, substr({r}.started_at, 1, 13) AS hour, d.value, k.kind, k.code,"
        f" {n} AS n FROM {source}"
        f"LATERAL (VALUES ('day', ''), ('queue', coalesce({r}.queue, '{NOT_ROUTED}')),"
        f" ('category', coalesce({r}.rule, '{NOT_ROUTED}')),"
        f" ('emirate', coalesce({r}.location, '{UNKNOWN}')),"
        f" ('language', coalesce({r}.language, '{UNKNOWN}'))) AS d (dim, value),"
        f" LATERAL (VALUES (0, ({_call_code(r)})::text),"
        f" (1, CASE WHEN {r}.status = 'hung_up_in_ivr'"
        f" THEN coalesce({r}.gave_up_in, '{UNKNOWN}') END),"
        f" (2, CASE WHEN {r}.to_queue_tenths IS NOT NULL AND {r}.typed_ahead IS NOT NULL"
        f" THEN (2 * {r}.to_queue_tenths"
        f" + CASE WHEN {r}.typed_ahead <> 0 THEN 1 ELSE 0 END)::text END),"
        f" (3, CASE WHEN {danger} THEN ({_call_code(r)})::text END)) AS k (kind, code)"
        f" WHERE k.code IS NOT NULL AND k.kind IN ({kinds})")


def _danger_of(r: str) -> str:
    return (f"EXISTS (SELECT 1 FROM answers AS a WHERE a.call_id = {r}.call_id"
            f" AND {_is_danger('a')})")


def _moved() -> str:
    """An update: OLD's rows taken away and NEW's added, writing only the rows that change
    (most updates move a report in one grouping, if any)."""
    both = (f"{_rows('OLD', _danger_of('OLD'), '-1')} UNION ALL"
            f" {_rows('NEW', _danger_of('NEW'), '1')}")
    key = ", ".join(f"x.{column}" for column in _KEY.split(", "))
    return _UPSERT.format(rows=f"SELECT {key}, sum(x.n) FROM ({both}) AS x GROUP BY {key}"
                               " HAVING sum(x.n) <> 0")


def _danger_rows(call_id: str, n: str) -> str:
    """The danger rows of the report of `call_id`, if there is one yet."""
    rows = _rows("r", "TRUE", n, kinds="3", source="reports AS r, ")
    return _UPSERT.format(rows=f"{rows} AND r.call_id = {call_id}")


_BULK = "IF EXISTS (SELECT 1 FROM stats_daily_bulk) THEN RETURN NULL; END IF;"

STATS_HOURLY = f"""
LOCK TABLE reports, answers IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE stats_hourly (
    dim   TEXT    NOT NULL,
    hour  TEXT    NOT NULL,
    value TEXT    NOT NULL,
    kind  INTEGER NOT NULL,
    code  TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY ({_KEY})
);
-- While it holds a row (purge, redact: their own transaction) the triggers stand aside.
CREATE TABLE stats_daily_bulk (id INTEGER PRIMARY KEY);

CREATE FUNCTION stats_hourly_reports() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_BULK}
    IF TG_OP = 'INSERT' THEN
        {_UPSERT.format(rows=_rows('NEW', _danger_of('NEW'), '1'))}
    ELSIF TG_OP = 'DELETE' THEN
        {_UPSERT.format(rows=_rows('OLD', _danger_of('OLD'), '-1'))}
    ELSE
        {_moved()}
    END IF;
    RETURN NULL;
END $$;

-- A report is a danger call while it has at least one danger answer: the first one added
-- makes it one, the last one removed (purge, a correction) unmakes it.
CREATE FUNCTION stats_hourly_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_BULK}
    IF TG_OP IN ('DELETE', 'UPDATE') AND {_is_danger('OLD')}
            AND {_danger_answers('OLD.call_id')} = 0 THEN
        {_danger_rows('OLD.call_id', '-1')}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND {_is_danger('NEW')}
            AND {_danger_answers('NEW.call_id')} = 1
            AND NOT (TG_OP = 'UPDATE' AND {_is_danger('OLD')}
                     AND OLD.call_id = NEW.call_id) THEN
        {_danger_rows('NEW.call_id', '1')}
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER stats_hourly_insert AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION stats_hourly_reports();
CREATE TRIGGER stats_hourly_delete AFTER DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION stats_hourly_reports();
CREATE TRIGGER stats_hourly_update AFTER UPDATE OF {', '.join(COLUMNS)} ON reports
    FOR EACH ROW WHEN ({' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in COLUMNS)})
    EXECUTE FUNCTION stats_hourly_reports();
CREATE TRIGGER stats_hourly_answers
    AFTER INSERT OR DELETE OR UPDATE OF call_id, question, value ON answers
    FOR EACH ROW EXECUTE FUNCTION stats_hourly_answers();

-- The reports already there, counted once (writes are locked out until the commit).
INSERT INTO stats_hourly ({_KEY}, n)
SELECT {_KEY}, count(*) FROM ({_rows('r', _danger_of('r'), '1', source='reports AS r, ')}) AS x
GROUP BY {_KEY};
"""
