"""Write N realistic reports (answers, a few timeline events) into a new SQLite file.

  .venv/bin/python bench/generate_reports.py /tmp/stats-1m.sqlite3            # 1,000,000
  .venv/bin/python bench/generate_reports.py /tmp/50k.sqlite3 -n 50000 --month 2026-11

The file is created with Balagh's own migrations, so `balagh stats` and `report-pack`
read it as they would a live database (BALAGH_DATA_DIR=... or --database). The mix:
seven queues by the shipped routing rules, ~5 % danger, ~8 % hung up in the IVR at
every question (more at the first ones), ~30 % typed ahead, ~8 % abandoned in the
queue, busier days and hours. Same seed, same file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from balagh.readmodel.period import parse_month
from balagh.store import daily
from balagh.store.schema import migrate
from balagh.store.timestamps import iso

Row = tuple[object, ...]
BATCH = 50_000
QUESTIONS = ("language", "danger", "age", "gender", "emirate", "condition")
# Where callers who hang up in the IVR do so: most early, fewer once they are engaged.
GIVE_UP_WEIGHTS = (30, 12, 18, 8, 22, 10)
EMIRATES = {"abu-dhabi": 30, "dubai": 35, "sharjah": 18, "ajman": 6, "umm-al-quwain": 2,
            "ras-al-khaimah": 6, "fujairah": 3}
KEYS = {"language": {"ar": "1", "en": "2"}, "danger": {"yes": "1", "no": "2"},
        "age": {"child": "1", "adult": "2", "elderly": "3"},
        "gender": {"male": "1", "female": "2"},
        "emirate": {name: str(i + 1) for i, name in enumerate(EMIRATES)},
        "condition": {"disability": "1", "psychiatric": "2", "unable-to-self-care": "3",
                      "none": "0"}}
# Calls per hour of the day (UTC): quiet at night, busy in the (Gulf) afternoon.
HOUR_WEIGHTS = (2, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2)
# How long callers wait on average in each queue (s): some units have fewer agents.
QUEUE_MEAN_WAIT = {"child-protection": 6, "women-protection": 9, "elderly-care": 8,
                   "disability-support": 14, "mental-health": 11, "social-welfare": 16,
                   "general": 18}


def route(answers: dict[str, str]) -> tuple[str, str]:
    """The shipped routing.yaml's rules, in order: (rule, queue)."""
    age, condition = answers.get("age"), answers.get("condition")
    if age == "child":
        return "child", "child-protection"
    if condition == "disability":
        return "disability", "disability-support"
    if condition == "psychiatric":
        return "psychiatric", "mental-health"
    if condition == "unable-to-self-care":
        return "unable-to-self-care", "social-welfare"
    if age == "elderly":
        return "elderly", "elderly-care"
    if age == "adult" and answers.get("gender") == "female":
        return "adult-female", "women-protection"
    return "default", "general"


class Generator:
    def __init__(self, seed: int, start: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.days = days
        # Some days are busier (a campaign, a news story): a weight per day.
        self.day_weights = [self.rng.uniform(0.7, 1.3) for _ in range(days)]

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def start_times(self, count: int) -> list[datetime]:
        """When each call starts, in order: the app writes reports as calls come in, so
        row order follows time (what makes a period a compact range of the table)."""
        days = self.rng.choices(range(self.days), self.day_weights, k=count)
        hours = self.rng.choices(range(24), HOUR_WEIGHTS, k=count)
        return sorted(self.start + timedelta(days=day, hours=hour,
                                             seconds=self.rng.uniform(0, 3600))
                      for day, hour in zip(days, hours, strict=True))

    def report(self, i: int, started: datetime) -> tuple[Row, list[Row], list[Row]]:
        rng = self.rng
        call_id = f"{1_700_000_000 + i}.{i % 997}"
        typed_ahead = 1 if rng.random() < 0.3 else 0
        if rng.random() < 0.02:
            typed_ahead_value: int | None = None  # an older row: not known
        else:
            typed_ahead_value = typed_ahead
        wanted = {"language": "ar" if rng.random() < 0.7 else "en",
                  "danger": "yes" if rng.random() < 0.05 else "no",
                  "age": self.pick({"child": 20, "adult": 55, "elderly": 25}),
                  "gender": "female" if rng.random() < 0.6 else "male",
                  "emirate": self.pick(EMIRATES),
                  "condition": self.pick({"disability": 8, "psychiatric": 10,
                                          "unable-to-self-care": 5, "none": 77})}
        gave_up: str | None = None
        if rng.random() < 0.08:
            gave_up = rng.choices(QUESTIONS, GIVE_UP_WEIGHTS)[0]
        danger_key = wanted["danger"] == "yes" and gave_up is None and rng.random() < 0.4
        # Seconds per question: a caller who types ahead barely waits for the prompts.
        step = (0.6, 2.0) if typed_ahead else (4.0, 8.0)
        at = started + timedelta(seconds=rng.uniform(2.0, 4.0))
        answers: list[Row] = []
        given: dict[str, str] = {}
        for question in QUESTIONS:
            if question == gave_up:
                break
            if danger_key and question == "age":
                # The danger key at the third prompt: recorded as danger=yes, route at once.
                answers.append((call_id, "danger", "yes", "9", 1, iso(at)))
                given["danger"] = "yes"
                break
            at += timedelta(seconds=rng.uniform(*step))
            attempt = 1
            if rng.random() < 0.03:  # a wrong key first
                answers.append((call_id, question, None, "8", attempt, iso(at)))
                at += timedelta(seconds=rng.uniform(3.0, 6.0))
                attempt = 2
            value = wanted[question]
            answers.append((call_id, question, value, KEYS[question][value], attempt, iso(at)))
            given[question] = value
        language = given.get("language", "ar" if gave_up == "language" else None)
        emirate = given.get("emirate")
        source = "answer" if emirate else None
        if emirate is None and rng.random() < 0.5:
            emirate, source = self.pick(EMIRATES), "number-prefix"
        caller = f"+9715{rng.randrange(10_000_000, 99_999_999)}"
        caller_hash = hashlib.blake2b(caller.encode(), digest_size=16).hexdigest()
        events: list[Row] = []
        if gave_up is not None:
            ended = at + timedelta(seconds=rng.uniform(1.0, 8.0))
            row: Row = (call_id, f"{(i * 7919 + 12345) % 100_000_000:08d}", f"PJSIP/trunk-{i:08x}",
                   caller, "800700", language, "hung_up_in_ivr", "hangup", None, None, None,
                   iso(started), None, iso(ended), iso(ended), emirate, source, None, None,
                   None, None, None, None, caller_hash, typed_ahead_value, gave_up)
            if i % 10 == 0:
                events.append((call_id, iso(ended), "hung_up_in_ivr",
                               json.dumps({"question": gave_up})))
            return row, answers, events
        rule, queue = ("default", "general") if danger_key else route(given)
        status = "routed"
        if rng.random() < 0.003:
            status, rule, queue = "fallback", "fallback", "general"
        danger = given.get("danger") == "yes"
        routed = at + timedelta(seconds=rng.uniform(0.5, 1.5))
        mean_wait = QUEUE_MEAN_WAIT[queue] * (0.3 if danger else 1.0)
        # A busy hour: everyone waits longer.
        if started.hour in (13, 14, 15):
            mean_wait *= 1.6
        abandoned = rng.random() < (0.03 if danger else 0.08)
        wait = min(900, int(rng.expovariate(1 / (mean_wait * (1.4 if abandoned else 1.0)))))
        joined = queue if wait < 90 or queue == "general" else "general"
        answered_at = talk = None
        answered_by = None
        if abandoned:
            outcome = "abandoned"
            ended = routed + timedelta(seconds=wait)
        else:
            outcome = "answered"
            answered_at_dt = routed + timedelta(seconds=wait)
            talk = int(rng.lognormvariate(5.5, 0.6))
            answered_at, answered_by = iso(answered_at_dt), f"agent-{rng.randrange(1, 40):02d}"
            ended = answered_at_dt + timedelta(seconds=talk)
        still_waiting = rng.random() < 0.002  # the end of the period: no outcome yet
        row = (call_id, f"{(i * 7919 + 12345) % 100_000_000:08d}", f"PJSIP/trunk-{i:08x}",
               caller, "800700", language, status, None, rule, queue, 10 if danger else 0,
               iso(started), iso(routed), None if still_waiting else iso(ended), iso(ended),
               emirate, source, None if still_waiting else outcome, joined,
               None if still_waiting else answered_by, None if still_waiting else answered_at,
               None if still_waiting else wait, None if still_waiting else talk,
               caller_hash, typed_ahead_value, None)
        if i % 10 == 0:
            events.append((call_id, iso(routed), "routed",
                           json.dumps({"rule": rule, "queue": queue})))
            events.append((call_id, iso(routed), "queue_join", json.dumps({"queue": joined})))
            if not still_waiting:
                events.append((call_id, iso(ended), outcome, json.dumps({"wait": wait})))
        return row, answers, events


REPORT_COLUMNS = ("call_id, reference, channel, caller, hotline, language, status, status_detail,"
                  " rule, queue, priority, started_at, routed_at, ended_at, updated_at, location,"
                  " location_source, queue_outcome, joined_queue, answered_by, answered_at,"
                  " wait_seconds, talk_seconds, caller_hash, typed_ahead, gave_up_in")


async def create(path: Path) -> None:
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode = WAL")
        await migrate(conn)


def batches(gen: Generator, count: int) -> Iterator[tuple[list[Row], list[Row], list[Row]]]:
    starts = gen.start_times(count)
    for first in range(0, count, BATCH):
        rows, answers, events = [], [], []
        for i in range(first, min(count, first + BATCH)):
            row, its_answers, its_events = gen.report(i, starts[i])
            rows.append(row)
            answers.extend(its_answers)
            events.extend(its_events)
        yield rows, answers, events


def generate(path: Path, count: int, start: datetime, days: int, seed: int = 12) -> None:
    if path.exists():
        raise SystemExit(f"{path} exists; remove it first")
    asyncio.run(create(path))
    conn = sqlite3.connect(path)
    # Only for this generator: a crash just means running it again.
    conn.execute("PRAGMA synchronous = OFF")
    marks = ", ".join("?" for _ in REPORT_COLUMNS.split(","))
    gen = Generator(seed, start, days)
    with conn:  # the statistics' counts: made once at the end, not a report at a time
        conn.execute(daily.BULK_ON)
    for rows, answers, events in batches(gen, count):
        with conn:
            conn.executemany(f"INSERT INTO reports ({REPORT_COLUMNS}) VALUES ({marks})", rows)
            conn.executemany("INSERT INTO answers (call_id, question, value, key, attempt,"
                             " answered_at) VALUES (?, ?, ?, ?, ?, ?)", answers)
            conn.executemany("INSERT INTO report_events (call_id, at, kind, detail)"
                             " VALUES (?, ?, ?, ?)", events)
    with conn:  # what the call path stores with routed_at (store/calls.py set_status)
        conn.execute("UPDATE reports SET to_queue_tenths = CAST(round((julianday(routed_at)"
                     " - julianday(started_at)) * 864000.0) AS INTEGER)"
                     " WHERE routed_at IS NOT NULL")
    conn.executescript(f"BEGIN; {daily.backfill()} {daily.BULK_OFF}; COMMIT;")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", type=Path, help="the SQLite file to create")
    parser.add_argument("-n", "--count", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-11", help="the month the calls fall in")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    period = parse_month(args.month)
    began = time.perf_counter()
    generate(args.database, args.count, period.start, period.days, args.seed)
    print(f"{args.count} reports in {args.database} ({time.perf_counter() - began:.1f} s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
