"""The satisfaction call's figures (readmodel/survey.py) as `balagh stats --survey` prints
them: an aligned table, CSV or JSON; the report pack shows the same rows."""

from __future__ import annotations

import json

from balagh.readmodel.survey import SurveyFigures
from balagh.readmodel.table import csv_text, table_lines

SURVEY_COLUMNS = ("month", "unit", "question", "answer", "calls")


def survey_rows(figures: SurveyFigures) -> list[list[str]]:
    return [[row.month, row.unit, row.question, row.answer, str(row.calls)]
            for row in figures.counts]


def table(figures: SurveyFigures) -> str:
    rows = survey_rows(figures)
    if not rows:
        return "no satisfaction call answered in this period\n"
    lines = table_lines([list(SURVEY_COLUMNS), *rows], right={4})
    return "\n".join(line.rstrip() for line in lines) + "\n"


def as_csv(figures: SurveyFigures) -> str:
    return csv_text(SURVEY_COLUMNS, survey_rows(figures))


def as_json(figures: SurveyFigures) -> str:
    return json.dumps({"survey": [dict(zip(SURVEY_COLUMNS, (row.month, row.unit, row.question,
                                                            row.answer, row.calls),
                                           strict=True))
                                  for row in figures.counts]}, indent=1) + "\n"


WRITERS = {"table": table, "csv": as_csv, "json": as_json}

__all__ = ["SURVEY_COLUMNS", "WRITERS", "survey_rows"]
