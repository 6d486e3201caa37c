"""The satisfaction call's answers (survey_answers; reachback's survey asks them): one row
per report and question, the answer the value of the key the callee pressed, or NULL when
they pressed none (counted as unanswered).

Not on the call path: `record` waits until its Write is committed or spooled. A report's
answers are written once: a copy (the same call's answers replayed from the spool, or a
second survey call of the same report) inserts nothing. No number, place or words: an
answer is one of config/reachback.yaml's values, so a redact leaves the rows and a purge
deletes them with their report (redaction.py's BESIDE_REPORTS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .queries import Queries, columns_of
from .timestamps import iso
from .writer import Statement, Writer

__all__ = ["Answer", "SurveyAnswer", "SurveyRows"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the call heard for one question (the input to `record`)."""

    question: int       # its place in the survey's questions, from 0
    prompt: str
    answer: str | None  # None: no key (or a key the question does not take)


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """One stored row (times ISO-8601 UTC text)."""

    reference: str
    call_id: str
    queue: str | None
    unit: str
    question: int
    prompt: str
    answer: str | None
    asked_at: str


_COLUMNS = ", ".join(columns_of(SurveyAnswer))


class SurveyRows:
    def __init__(self, writer: Writer, queries: Queries) -> None:
        self.writer = writer
        self.queries = queries

    async def record(self, *, reference: str, call_id: str, queue: str | None, unit: str,
                     answers: list[Answer], at: datetime) -> bool:
        """Write the call's answers; True once committed or spooled, False if the write
        was lost (logged by the writer; the caller was asked, the figures miss one)."""
        when = iso(at)

        def build() -> list[Statement]:
            return [("INSERT OR IGNORE INTO survey_answers (reference, call_id, queue, unit,"
                     " question, prompt, answer, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (str(reference), str(call_id), queue, str(unit), int(item.question),
                      str(item.prompt), item.answer, when))
                    for item in answers]

        lost = self.writer.write_errors
        self.writer.submit("record_survey", build, reference=str(reference))
        await self.writer.flush()
        return self.writer.write_errors == lost

    async def of_report(self, reference: str) -> list[SurveyAnswer]:
        async with self.queries.db.execute(
                f"SELECT {_COLUMNS} FROM survey_answers WHERE reference = ?"
                " ORDER BY question", (str(reference),)) as cursor:
            return [SurveyAnswer(**dict(row)) async for row in cursor]
