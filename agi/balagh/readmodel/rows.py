"""Reports as rows for people and for other tools: a table, CSV or JSON, numbers masked.

A caller's number is masked in every listing and export (+9715****4567; a withheld number
stays 'withheld') unless the command was asked for numbers in full, which it records.
Times are stored in UTC and shown in the hotline's zone, ISO 8601 with the offset
(2026-12-01T03:43:30+04:00), so a row says both the local time and the instant.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import tzinfo
from typing import IO, Any

from balagh.consent import consent_word
from balagh.localtime import shown
from balagh.privacy import WITHHELD, mask_number, redact_text
from balagh.store.queries import Report
from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

from .table import table_lines

FORMATS = ("table", "csv", "json")
TABLE_COLUMNS = ("reference", "started_at", "status", "language", "queue", "priority",
                 "queue_outcome", "wait_seconds", "caller", "location", "followup_status")
# Export columns: what the report says, never the caller_hash (it links a caller's calls).
EXPORT_COLUMNS = ("reference", "call_id", "started_at", "routed_at", "ended_at", "status",
                  "status_detail", "hotline", "caller", "language", "location",
                  "location_source", "danger", "rule", "queue", "priority", "joined_queue",
                  "queue_outcome", "answered_by", "answered_at", "wait_seconds",
                  "talk_seconds", "typed_ahead", "gave_up_in", "consent",
                  "followup_status")
TIME_COLUMNS = frozenset({"started_at", "routed_at", "ended_at", "joined_queue",
                          "answered_at"})


def shown_number(number: str | None, show_numbers: bool) -> str:
    if not number:
        return WITHHELD
    return number if show_numbers else mask_number(number)


def shown_detail(detail: str | None) -> str | None:
    """Stored details hold an error's kind only; older rows may quote a message: scrub it."""
    return None if detail is None else redact_text(detail)


def report_consent(report: Report) -> str:
    """'yes' only when the caller said a text or call back is safe, on a number still kept
    (not withheld, not redacted); else 'no', also for a report older than the question."""
    return consent_word(report.answers, report.caller)


def record(report: Report, show_numbers: bool, zone: tzinfo) -> dict[str, Any]:
    """One report as a flat mapping of EXPORT_COLUMNS, plus its answers; times in `zone`."""
    values: dict[str, Any] = {}
    for column in EXPORT_COLUMNS:
        if column in TIME_COLUMNS:
            values[column] = shown(getattr(report, column), zone) or None
        elif column == "caller":
            values[column] = shown_number(report.caller, show_numbers)
        elif column == "danger":
            values[column] = report.answers.get(DANGER_QUESTION) == DANGER_ANSWER
        elif column == "typed_ahead":
            values[column] = None if report.typed_ahead is None else bool(report.typed_ahead)
        elif column == "status":
            values[column] = str(report.status)
        elif column == "consent":
            values[column] = report_consent(report)
        elif column == "status_detail":
            values[column] = shown_detail(report.status_detail)
        else:
            values[column] = getattr(report, column)
    values["answers"] = dict(report.answers)
    return values


def cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def table_cell(report: Report, column: str, show_numbers: bool, zone: tzinfo) -> str:
    if column == "caller":
        return cell(shown_number(report.caller, show_numbers))
    if column in TIME_COLUMNS:
        return cell(shown(getattr(report, column), zone))
    return cell(getattr(report, column))


def write_table(reports: Sequence[Report], out: IO[str], show_numbers: bool,
                zone: tzinfo) -> None:
    rows = [[table_cell(report, column, show_numbers, zone) for column in TABLE_COLUMNS]
            for report in reports]
    for line in table_lines([TABLE_COLUMNS, *rows]):
        out.write(line.rstrip() + "\n")


def write_csv(reports: Sequence[Report], out: IO[str], show_numbers: bool,
              zone: tzinfo) -> None:
    """One row per report; each question its own answer.QUESTION column."""
    records = [record(report, show_numbers, zone) for report in reports]
    questions = sorted({question for rec in records for question in rec["answers"]})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*EXPORT_COLUMNS, *(f"answer.{q}" for q in questions)])
    for rec in records:
        flat = ["" if rec[c] is None else _csv_value(rec[c]) for c in EXPORT_COLUMNS]
        writer.writerow([*flat, *(rec["answers"].get(q) or "" for q in questions)])


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def write_json(reports: Sequence[Report], out: IO[str], show_numbers: bool,
               zone: tzinfo) -> None:
    json.dump([record(report, show_numbers, zone) for report in reports], out, indent=1,
              ensure_ascii=False)
    out.write("\n")


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json}

__all__ = ["EXPORT_COLUMNS", "FORMATS", "TABLE_COLUMNS", "TIME_COLUMNS", "WITHHELD", "WRITERS",
           "cell", "mask_number", "record", "shown_detail", "shown_number", "table_cell"]
