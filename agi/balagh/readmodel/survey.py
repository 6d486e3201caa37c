"""The satisfaction call's answers in figures, for `balagh stats --survey` and the report
pack: for the calls asked in a period, per month (the hotline's zone, of the call), unit
and question, how many callees gave each answer, and how many pressed no key
("unanswered").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from balagh.store.timestamps import iso

from .period import Period
from .stats_connection import connect, has_table

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

__all__ = ["UNANSWERED", "SurveyCount", "SurveyFigures", "survey_figures"]

UNANSWERED = "unanswered"  # no key pressed (stored as NULL)


@dataclass(frozen=True)
class SurveyCount:
    month: str    # YYYY-MM
    unit: str
    question: str  # the question's prompt id
    answer: str   # a configured value, or UNANSWERED
    calls: int


@dataclass
class SurveyFigures:
    counts: list[SurveyCount] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.counts


def survey_figures(path: ReportDatabase, period: Period) -> SurveyFigures:
    figures = SurveyFigures()
    with connect(path) as conn:
        if not has_table(path, conn, "survey_answers"):
            return figures  # a database from before the survey's schema step
        # A month is the hotline's (23:30 UTC on 30 November is December in Dubai): one
        # count per month between its zone's edges, the same text on either engine.
        for month, start, end in period.months():
            for unit, prompt, answer, calls in conn.execute(
                    "SELECT unit, prompt, answer, COUNT(*) FROM survey_answers"
                    " WHERE asked_at >= ? AND asked_at < ? GROUP BY unit, prompt, answer",
                    (iso(start), iso(end))):
                figures.counts.append(SurveyCount(month, str(unit), str(prompt),
                                                  UNANSWERED if answer is None else str(answer),
                                                  int(calls)))
    figures.counts.sort(key=lambda c: (c.month, c.unit, c.question, c.answer == UNANSWERED,
                                       c.answer))
    return figures
