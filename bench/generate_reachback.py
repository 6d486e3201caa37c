"""Add what happens after a call to a file made by generate_reports.py: the consent answer,
the caller's texts and their delivery reports, the units' follow-up, the satisfaction call's
answers, the agents' queue events and (in a second, console file) their dispositions.

  .venv/bin/python bench/generate_reports.py /tmp/50k.sqlite3 -n 50000 --month 2026-11
  .venv/bin/python bench/generate_reachback.py /tmp/50k.sqlite3 /tmp/50k-console.sqlite3

So the report pack's examples (docs/examples/) show every section a live line fills. Rows
go in with the tables' own columns, as the app's parts write them; same seed, same rows.
The mix: a third of the routed callers are asked the consent question (60 % yes); a yes
gets the "registered" text (95 % delivered); the units take and resolve most answered
reports within days; half the resolved reports with consent are surveyed (80 % answer).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from balagh.console.dispositions import SCHEMA as DISPOSITIONS_SCHEMA
from balagh.store.timestamps import iso
from balagh.vocabulary import CONSENT_NO, CONSENT_QUESTION, CONSENT_YES

Row = tuple[object, ...]
UNITS = {"child-protection": "cpu", "women-protection": "wpu", "elderly-care": "care",
         "disability-support": "care", "mental-health": "health",
         "social-welfare": "welfare", "general": "welfare"}
# The shipped console.dispositions (config/balagh.yaml) and how often agents pick each.
DISPOSITIONS = {"genuine": 70, "information": 12, "silent": 8, "wrong-number": 4,
                "prank": 3, "testing": 2, "abusive": 1}
# The shipped survey's question (config/reachback.yaml) and how callees answer it.
SURVEY_PROMPT = "survey-satisfied"
SATISFACTION = {"5": 40, "4": 30, "3": 15, "2": 8, "1": 7}


def parse(at: str) -> datetime:
    return datetime.fromisoformat(at)


class Reachback:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def later(self, at: datetime, low: float, high: float) -> datetime:
        return at + timedelta(seconds=self.rng.uniform(low, high))

    def call(self, report: sqlite3.Row, tables: dict[str, list[Row]]) -> None:
        """The rows one routed report leaves after its call."""
        call_id, reference = report["call_id"], report["reference"]
        language = report["language"] or "ar"
        routed = parse(report["routed_at"])
        consent = None
        if self.chance(0.33):
            consent = CONSENT_YES if self.chance(0.6) else CONSENT_NO
            tables["answers"].append((call_id, CONSENT_QUESTION, consent,
                                      "1" if consent == CONSENT_YES else "2", 1,
                                      iso(self.later(routed, -2.0, -0.5))))
        if consent == CONSENT_YES:
            self.text(reference, "registered", language, routed, tables)
        if report["queue_outcome"] == "answered":
            self.agent(report, tables)
            if self.chance(0.85):
                self.followup(report, consent, tables)

    def text(self, reference: str, event: str, language: str, at: datetime,
             tables: dict[str, list[Row]]) -> None:
        rows = tables["sms_outbox"]
        sent = self.later(at, 0.05, 0.3)
        delivered = self.chance(0.95)
        reported = self.later(sent, 2.0, 40.0)
        rows.append((f"{reference}:{event}", reference, event, language,
                     f"tok-{reference}-{event}", "+9715" + str(self.rng.randrange(10**7, 10**8)),
                     f"[{event}] {reference}", iso(at), 1, iso(sent), iso(sent), iso(reported),
                     1 if delivered else 2, None, "delivered" if delivered else "failed"))

    def agent(self, report: sqlite3.Row, tables: dict[str, list[Row]]) -> None:
        agent, queue, call_id = report["answered_by"], report["queue"], report["call_id"]
        answered = parse(report["answered_at"])
        ring = self.rng.randrange(2, 12)
        rows = tables["agent_events"]
        if self.chance(0.06):  # a first agent who let it ring out
            other = f"agent-{self.rng.randrange(1, 40):02d}"
            rows.append((iso(answered - timedelta(seconds=ring + 20)), other, queue, "offered",
                         call_id, None, None, None, None, None, None))
            rows.append((iso(answered - timedelta(seconds=ring + 5)), other, queue, "missed",
                         call_id, 15, None, None, None, None, None))
        rows.append((iso(answered - timedelta(seconds=ring)), agent, queue, "offered", call_id,
                     None, None, None, None, None, None))
        rows.append((iso(answered), agent, queue, "answered", call_id, ring,
                     report["wait_seconds"], None, None, None, None))
        rows.append((report["ended_at"], agent, queue, "completed", call_id, None, None,
                     report["talk_seconds"], 10, self.rng.choice(("caller", "agent")), None))
        if self.chance(0.9):
            tables["dispositions"].append((
                call_id, report["reference"], queue, f"PJSIP/{agent}", agent,
                self.rng.choices(list(DISPOSITIONS), list(DISPOSITIONS.values()))[0], None,
                iso(self.later(parse(report["ended_at"]), 5, 60))))

    def followup(self, report: sqlite3.Row, consent: str | None,
                 tables: dict[str, list[Row]]) -> None:
        reference, queue = report["reference"], report["queue"]
        unit = UNITS.get(queue, "welfare")
        at = self.later(parse(report["ended_at"]), 60, 3600)
        steps = ["received"]
        if self.chance(0.8):
            steps.append("in_progress")
            if self.chance(0.75):
                steps.append("resolved")
        for n, status in enumerate(steps):
            if n:
                at = self.later(at, 3600, 5 * 86400 if status == "resolved" else 86400)
            tables["report_statuses"].append((unit, f"{reference}-{n}", reference,
                                              report["call_id"], queue, status, None,
                                              iso(at), iso(at)))
        tables["followup_status"].append((steps[-1], report["call_id"]))
        if steps[-1] == "resolved" and consent == CONSENT_YES:
            self.text(reference, "resolved", report["language"] or "ar", at, tables)
            if self.chance(0.5):
                answer = (self.rng.choices(list(SATISFACTION), list(SATISFACTION.values()))[0]
                          if self.chance(0.8) else None)
                tables["survey_answers"].append((reference, report["call_id"], queue, unit, 0,
                                                 SURVEY_PROMPT, answer,
                                                 iso(self.later(at, 3600, 86400))))


INSERTS = {
    "answers": "INSERT INTO answers (call_id, question, value, key, attempt, answered_at)"
               " VALUES (?, ?, ?, ?, ?, ?)",
    "sms_outbox": "INSERT INTO sms_outbox (key, reference, event, language, token, destination,"
                  " text, created_at, attempts, next_attempt_at, sent_at, reported_at,"
                  " report_code, last_error, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                  " ?, ?, ?, ?, ?)",
    "agent_events": "INSERT INTO agent_events (at, agent, queue, kind, call_id, ring_seconds,"
                    " hold_seconds, talk_seconds, wrapup_seconds, reason, status)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "report_statuses": "INSERT INTO report_statuses (unit, id, reference, call_id, queue,"
                       " status, reason, signed_at, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "followup_status": "UPDATE reports SET followup_status = ? WHERE call_id = ?",
    "survey_answers": "INSERT INTO survey_answers (reference, call_id, queue, unit, question,"
                      " prompt, answer, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
}


def pauses(maker: Reachback, conn: sqlite3.Connection) -> list[Row]:
    """Each agent's breaks: two a day in their queue, 5 to 30 minutes, with a reason."""
    rows: list[Row] = []
    first, last = conn.execute("SELECT min(started_at), max(started_at) FROM reports").fetchone()
    days = (parse(last).date() - parse(first).date()).days + 1
    agents = conn.execute("SELECT answered_by, min(queue) FROM reports"
                          " WHERE answered_by IS NOT NULL GROUP BY answered_by").fetchall()
    for agent, queue in agents:
        for day in range(days):
            for _ in range(2):
                at = parse(first).replace(hour=0, minute=0, second=0) + timedelta(
                    days=day, seconds=maker.rng.uniform(6 * 3600, 20 * 3600))
                back = maker.later(at, 300, 1800)
                rows.append((iso(at), agent, queue, "paused", None, None, None, None, None,
                             maker.rng.choice(("break", "wrap-up", "training", "meeting")), None))
                rows.append((iso(back), agent, queue, "unpaused", None, None, None, None,
                             None, None, None))
    return rows


def routed_reports(conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    yield from conn.execute(
        "SELECT call_id, reference, queue, language, routed_at, ended_at, queue_outcome,"
        " answered_by, answered_at, wait_seconds, talk_seconds FROM reports"
        " WHERE routed_at IS NOT NULL AND ended_at IS NOT NULL AND queue_outcome IS NOT NULL"
        " ORDER BY rowid")


def generate(database: Path, console: Path, seed: int = 27) -> dict[str, int]:
    if console.exists():
        raise SystemExit(f"{console} exists; remove it first")
    tables: dict[str, list[Row]] = {name: [] for name in (*INSERTS, "dispositions")}
    maker = Reachback(seed)
    conn = sqlite3.connect(database)
    for report in routed_reports(conn):
        maker.call(report, tables)
    conn.row_factory = None
    tables["agent_events"] += pauses(maker, conn)
    with conn:
        for name, sql in INSERTS.items():
            conn.executemany(sql, tables[name])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    kept = sqlite3.connect(console)
    with kept:
        kept.executescript(DISPOSITIONS_SCHEMA)
        kept.executemany("INSERT INTO dispositions (call_id, reference, queue, member, user,"
                         " disposition, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         tables["dispositions"])
    kept.close()
    return {name: len(rows) for name, rows in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a file generate_reports.py made")
    parser.add_argument("console", type=Path, help="the console file to create")
    parser.add_argument("--seed", type=int, default=27)
    args = parser.parse_args(argv)
    if not args.database.exists():
        raise SystemExit(f"{args.database}: no such file (make it with generate_reports.py)")
    counts = generate(args.database, args.console, args.seed)
    print(", ".join(f"{name} {count:,}" for name, count in counts.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
