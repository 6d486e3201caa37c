"""Which reports a search selects: the filters of `balagh reports`, as one SQL WHERE clause.

Pure: it builds SQL text and its parameters, never runs them (reader.py does). Every
value is a parameter; only fixed fragments are pasted into the text. Times compare as the
stored ISO-8601 UTC text, so the started_at and caller_hash indexes serve the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from balagh.localtime import day_start
from balagh.store.timestamps import iso
from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

QUEUE_OUTCOMES = ("answered", "abandoned")

# A time `?` (e.g. '-30 days') before this report's start, as stored text.
_SHIFTED_START = "strftime('%Y-%m-%dT%H:%M:%fZ', reports.started_at, ?)"


@dataclass(frozen=True)
class ReportSearch:
    """Filters, all optional; None means "any". `until` is exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    queue: str | None = None         # the routed queue or the last queue waited in
    status: str | None = None        # reports.status (ReportStatus)
    outcome: str | None = None       # answered | abandoned (the queue's side)
    danger: bool | None = None       # the caller said (or keyed) they are in danger
    emirate: str | None = None
    language: str | None = None
    repeat_days: int | None = None   # only callers who had called in the N days before
    limit: int | None = 20           # None: every match

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause over `reports` (no leading WHERE; "1" when nothing filters)."""
        parts: list[str] = []
        params: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            parts.append(sql)
            params.extend(values)

        if self.since is not None:
            add("reports.started_at >= ?", iso(self.since))
        if self.until is not None:
            add("reports.started_at < ?", iso(self.until))
        if self.queue is not None:
            add("(reports.queue = ? OR reports.joined_queue = ?)", self.queue, self.queue)
        if self.status is not None:
            add("reports.status = ?", self.status)
        if self.outcome is not None:
            add("reports.queue_outcome = ?", self.outcome)
        if self.emirate is not None:
            add("reports.location = ?", self.emirate)
        if self.language is not None:
            add("reports.language = ?", self.language)
        if self.danger is not None:
            exists = ("EXISTS (SELECT 1 FROM answers WHERE answers.call_id = reports.call_id"
                      " AND answers.question = ? AND answers.value = ?)")
            add(exists if self.danger else f"NOT {exists}", DANGER_QUESTION, DANGER_ANSWER)
        if self.repeat_days is not None:
            # As the repeat count at call time: the same number within the days before.
            add("reports.caller_hash IS NOT NULL AND EXISTS (SELECT 1 FROM reports AS earlier"
                " WHERE earlier.caller_hash = reports.caller_hash"
                " AND earlier.started_at < reports.started_at"
                f" AND earlier.started_at >= {_SHIFTED_START})",
                f"-{int(self.repeat_days)} days")
        return (" AND ".join(parts) or "1 = 1"), params

    def selection(self, columns: str) -> tuple[str, list[Any]]:
        """SELECT `columns` of the matching reports, newest first, limited."""
        where, params = self.where()
        sql = (f"SELECT {columns} FROM reports WHERE {where}"
               " ORDER BY reports.started_at DESC, reports.id DESC")
        if self.limit is not None:
            sql += " LIMIT ?"
            params.append(int(self.limit))
        return sql, params

    def described(self) -> dict[str, Any]:
        """The filters given, for an audit record (times as stored text)."""
        described: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value is None or name == "limit":
                continue
            described[name] = iso(value) if isinstance(value, datetime) else value
        return described


def parse_moment(text: str, zone: tzinfo, *, end_of_day: bool = False) -> datetime:
    """A date (YYYY-MM-DD) or a date and time, in the hotline's `zone` unless it says
    otherwise (+04:00, Z). A bare date is the zone's day; as --until it means the end of
    that day (the whole day included)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return day_start(day + timedelta(days=1) if end_of_day else day, zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date or time: {text!r} (YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM[:SS], the hotline's time zone)") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


__all__ = ["QUEUE_OUTCOMES", "ReportSearch", "parse_moment"]
