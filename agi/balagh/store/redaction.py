"""What a redact forgets besides the report's own row, on either engine: the place in the
emirate answers, the timeline and the outbox documents (maintenance.py runs it in each
chunk's transaction)."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from balagh.vocabulary import EMIRATE_QUESTION

from . import daily
from .short_transaction import Db

__all__ = ["BESIDE_REPORTS", "REDACTABLE", "REDACTED_SOURCE", "delete_beside", "forget_callbacks",
           "forget_place", "forget_reasons", "forget_texts", "forget_zero_counts", "on_server",
           "purge_agent_events"]

# location_source's word for a report whose number and place were forgotten: it marks the
# report done, so reports redacted by an older Balagh (which left the place in answers,
# timeline and outbox) are taken once more, and each report at most once after that.
REDACTED_SOURCE = "redacted"
# Not `IS NOT 'redacted'`: PostgreSQL has no IS NOT with a value.
REDACTABLE = f"(location_source IS NULL OR location_source <> '{REDACTED_SOURCE}')"

# The JSON edits, one text per engine: PostgreSQL has neither json_replace nor
# json_extract, and keeps the column TEXT (jsonb_set's `false`: only a key already
# there is replaced, as json_replace does). Everything else is one text for both.
_FORGET_ANSWER_EVENT = {
    False: "UPDATE report_events SET detail = json_replace(detail, '$.value', NULL,"
           " '$.key', NULL) WHERE kind = 'answer' AND json_valid(detail)"
           " AND json_extract(detail, '$.question') = ? AND call_id IN ({marks})",
    # CASE: PostgreSQL may read a condition before json_valid, and a cast of text that
    # is not JSON would fail the chunk.
    True: "UPDATE report_events SET detail = jsonb_set(jsonb_set(detail::jsonb, '{{value}}',"
          " 'null', false), '{{key}}', 'null', false)::text WHERE kind = 'answer' AND CASE"
          " WHEN json_valid(detail) THEN detail::jsonb ->> 'question' = ? ELSE false END"
          " AND call_id IN ({marks})",
}
_FORGET_OUTBOX_PLACE = {
    False: "UPDATE outbox SET body = json_replace(body, '$.report.emirate', NULL,"
           " '$.report.location_source', ?, '$.report.caller', NULL)"
           " WHERE key >= ? AND key < ? AND json_valid(body)",
    True: "UPDATE outbox SET body = jsonb_set(jsonb_set(jsonb_set(body::jsonb,"
          " '{report,emirate}', 'null', false), '{report,location_source}',"
          " to_jsonb(CAST(? AS TEXT)), false), '{report,caller}', 'null', false)::text"
          " WHERE key >= ? AND key < ? AND json_valid(body)",
}


def forget_place(db: Db, calls: list[str], references: list[str]) -> None:
    """Every other trace of where the callers of `calls` were, in the chunk's transaction:
    their emirate answers, the timeline rows that name the place, and the outbox documents
    (delivered ones deleted: the unit has them; the others keep going, without the place)."""
    marks = ",".join("?" * len(calls))
    server = on_server(db)
    db.execute("UPDATE answers SET value = NULL, key = NULL WHERE question = ?"
               f" AND call_id IN ({marks}) AND (value IS NOT NULL OR key IS NOT NULL)",
               (EMIRATE_QUESTION, *calls))
    db.execute("UPDATE report_events SET detail = json_object('emirate', NULL, 'source',"
               f" CAST(? AS TEXT)) WHERE kind = 'location' AND call_id IN ({marks})",
               (REDACTED_SOURCE, *calls))
    db.execute(_FORGET_ANSWER_EVENT[server].format(marks=marks), (EMIRATE_QUESTION, *calls))
    # outbox.key is REFERENCE:EVENT, indexed (UNIQUE key, url); reference is not.
    ranges = [(f"{reference}:", f"{reference};") for reference in references]
    db.executemany("DELETE FROM outbox WHERE status = 'delivered' AND key >= ? AND key < ?",
                   ranges)
    db.executemany(_FORGET_OUTBOX_PLACE[server],
                   [(REDACTED_SOURCE, *bounds) for bounds in ranges])


def on_server(db: Db) -> bool:
    return not isinstance(db, sqlite3.Connection)


def forget_texts(db: Db, references: list[str]) -> None:
    """The texts to the callers of `references`: number and words emptied, and a text not
    sent yet never will be (the sender would find no number anyway: consent.may_contact)."""
    db.executemany("UPDATE sms_outbox SET destination = NULL, text = NULL,"
                   " status = CASE WHEN status = 'pending' THEN 'withheld' ELSE status END"
                   " WHERE reference = ?", [(reference,) for reference in references])


_FORGET_FOLLOWUP_REASON = {
    False: "UPDATE report_events SET detail = json_replace(detail, '$.reason', NULL)"
           " WHERE kind = 'followup' AND json_valid(detail) AND call_id IN ({marks})",
    True: "UPDATE report_events SET detail = jsonb_set(detail::jsonb, '{{reason}}', 'null',"
          " false)::text WHERE kind = 'followup' AND json_valid(detail)"
          " AND call_id IN ({marks})",
}


def forget_reasons(db: Db, calls: list[str], references: list[str]) -> None:
    """The units' words about these reports (store/followups.py): the reason of each status
    and of its timeline step; the statuses themselves stay for the statistics."""
    marks = ",".join("?" * len(references))
    db.execute(f"UPDATE report_statuses SET reason = NULL WHERE reference IN ({marks})"
               " AND reason IS NOT NULL", references)
    db.execute(_FORGET_FOLLOWUP_REASON[on_server(db)].format(
        marks=",".join("?" * len(calls))), calls)


# What goes with a purged report, in the order it goes.
BESIDE_REPORTS = ("answers", "report_events", "outbox", "sms_outbox", "report_statuses",
                  "callbacks", "survey_calls", "survey_answers")


def delete_beside(db: Db, calls: list[str], references: list[str]) -> dict[str, int]:
    """Delete what belongs to these reports, before the reports themselves: answers and
    timeline; outbox rows once delivered (a pending event still has to reach its unit);
    texts, pending or not (nobody may be texted about a purged report); units' statuses."""
    calls_in, references_in = ",".join("?" * len(calls)), ",".join("?" * len(references))
    removed = {table: db.execute(f"DELETE FROM {table} WHERE call_id IN ({calls_in})",
                                 calls).rowcount for table in ("answers", "report_events")}
    # outbox.key is REFERENCE:EVENT, indexed (UNIQUE key, url); reference is not.
    removed["outbox"] = db.executemany(
        "DELETE FROM outbox WHERE status = 'delivered' AND key >= ? AND key < ?",
        [(f"{reference}:", f"{reference};") for reference in references]).rowcount
    removed["sms_outbox"] = db.execute(
        f"DELETE FROM sms_outbox WHERE reference IN ({references_in})", references).rowcount
    for table in ("report_statuses", "callbacks", "survey_calls", "survey_answers"):
        removed[table] = db.execute(
            f"DELETE FROM {table} WHERE reference IN ({references_in})", references).rowcount
    return removed


def purge_agent_events(db: Db, when: str, chunk: int) -> int:
    """One chunk of agent_events older than `when` (none before their schema step). They
    name calls and agents, never callers: purged by age, after the reports."""
    if on_server(db):
        if db.execute("SELECT to_regclass('agent_events')").fetchone()[0] is None:
            return 0
    elif db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                    " AND name = 'agent_events'").fetchone() is None:
        return 0
    return int(db.execute("DELETE FROM agent_events WHERE id IN (SELECT id FROM agent_events"
                          " WHERE at < ? ORDER BY at LIMIT ?)", (when, chunk)).rowcount)


def forget_zero_counts(db: Db, first_day: str, last_day: str) -> None:
    """stats_hourly's rows left at zero in those days (none before its schema step)."""
    if isinstance(db, sqlite3.Connection):
        if not daily.kept(db):
            return
    elif db.execute("SELECT to_regclass('stats_hourly')").fetchone()[0] is None:
        return
    until = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    db.execute(daily.FORGET_ZEROS, (first_day, until))


def forget_callbacks(db: Db, references: list[str]) -> None:
    """A callback or satisfaction call not dialled yet for a redacted report never will be
    (its number is gone; the dialler would find none anyway)."""
    for table in ("callbacks", "survey_calls"):
        db.executemany(f"UPDATE {table} SET status = 'cancelled', cancelled_by = 'redacted'"
                       " WHERE reference = ? AND status = 'pending'",
                       [(reference,) for reference in references])
