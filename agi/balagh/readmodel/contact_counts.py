"""The period's figures about reaching callers back: the consent question's yes and no, and
the texts sent, delivered, failed and withheld. Statements both engines take (no boolean
sums, named or `?` parameters), on the statistics' read-only connection."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from balagh.store.timestamps import iso
from balagh.vocabulary import CONSENT_NO, CONSENT_QUESTION, CONSENT_YES

from .period import Period
from .stats_connection import connect, has_table

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

__all__ = ["consent_counts", "text_counts"]

# The period's reports by their start, each one's answers by call_id (answers_call_id).
_CONSENT_SQL = ("SELECT a.value, count(*) FROM answers AS a JOIN reports AS r USING (call_id)"
                f" WHERE a.question = '{CONSENT_QUESTION}'"
                " AND r.started_at >= :start AND r.started_at < :end GROUP BY a.value")

_TEXTS_SQL = ("SELECT COUNT(sent_at),"
              " SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END),"
              " SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),"
              " SUM(CASE WHEN status = 'withheld' THEN 1 ELSE 0 END)"
              " FROM sms_outbox WHERE created_at >= ? AND created_at < ?")


def consent_counts(database: ReportDatabase, period: Period) -> Counter[str]:
    """How many callers of the period said yes and no to the consent question (callers not
    asked, withheld or in danger, are in neither)."""
    start, end = period.bounds
    counts: Counter[str] = Counter({CONSENT_YES: 0, CONSENT_NO: 0})
    with connect(database) as conn:
        for value, count in conn.execute(_CONSENT_SQL, {"start": start, "end": end}):
            counts[CONSENT_YES if value == CONSENT_YES else CONSENT_NO] += count
    return counts


def text_counts(database: ReportDatabase, period: Period) -> dict[str, int]:
    """Texts to callers queued in the period: sent (Kannel took them), delivered and failed
    (by their delivery reports, or after every attempt), withheld (no consent when due).
    Empty before the texts' schema step."""
    with connect(database) as conn:
        if not has_table(database, conn, "sms_outbox"):
            return {}
        row = conn.execute(_TEXTS_SQL, (iso(period.start), iso(period.end))).fetchone()
    return dict(zip(("sent", "delivered", "failed", "withheld"),
                    (int(value or 0) for value in row), strict=True))
