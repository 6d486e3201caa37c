"""The SQL side: the period's counts, and the figures made from them.

From schema v10 the counts come from stats_hourly (daily_counts.py, kept by the store's
triggers: store/daily.py); what follows is the exact scan of the reports, used for an
older file and by the tests as the reference the summary must equal.

The period's reports read a day at a time, counted in Python.

SQLite's GROUP BY sorts every row (about 2 s for a million reports here) and building a
text key per call costs as much, so each day is read with group_concat of one small key
per call: the grouping values (queue, rule, ...; the day is the slice's own) and an
integer that packs status, queue outcome and wait, which SQLite makes almost for free.
A second key per routed call packs typed-ahead and answer-to-queue tenths, a third per
hang-up in the menu names the question, and a separate scan driven from the danger
answers covers the few danger calls. Python counts the keys (a few thousand distinct),
projects them onto each grouping, and figures.py turns counts into exact figures: one
scan serves every grouping the periodic report needs. Two threads with their own
read-only (`mode=ro`) connections share the days (SQLite releases the GIL while it
scans). Statistics never write, and never take the write lock from the running app.

On PostgreSQL (`database_url`) the same statements run through a synchronous read-only
psycopg connection per thread (store/postgres_sync.py; group_concat is translated to
string_agg), so the keys, and so the figures, are the same on both engines; the SQL
below keeps to what both understand (format(), CASE rather than SQLite's max(a, b) or
a comparison used as a number).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from balagh.store.daily import DIMS, UNKNOWN
from balagh.store.timestamps import iso
from balagh.vocabulary import DANGER_ANSWER, DANGER_QUESTION

from . import daily_counts
from .contact_counts import consent_counts, text_counts
from .daily_counts import KindCounts
from .figures import Figures
from .period import Period
from .stats_connection import NEEDS_VERSION as NEEDS_VERSION
from .stats_connection import StatsError as StatsError
from .stats_connection import connect, has_hourly

if TYPE_CHECKING:
    from balagh.store.opening import ReportDatabase

# What each --by groups on (the same values as the daily counts'; a day is its date).
# category: the routing rule that matched (routing.yaml's rule
# names: child, adult-female, ..., default), i.e. what the caller's answers say the case
# is; queue: the queue the decision chose (overflow may have moved the caller on later).
GROUPINGS: dict[str, str] = {
    "day": "substr(r.started_at, 1, 10)",
    **{dim: value.format(r="r") for dim, value in DIMS.items() if dim != "day"},
}
_IN_PERIOD = "r.started_at >= :start AND r.started_at < :end"
# A caller in danger: answered 'yes' to the danger question, or pressed the danger key
# (recorded as the same answer). Counted by a scan of its own driven from those answers
# (a few % of calls) through the unique call_id index, rather than a test on every call.
# Schema v8's partial index answers_danger holds just those answers: SQLite uses it only
# when the query names the same constants as literals (not parameters), as here.
_DANGER_CALLS = ("r.call_id IN (SELECT call_id FROM answers WHERE"
                 f" question = '{DANGER_QUESTION}' AND value = '{DANGER_ANSWER}')")
_FIELD, _RECORD = "\x1f", "\x1e"  # ASCII unit and record separators: never in an id
STATUSES = ("routed", "fallback", "hung_up_in_ivr")  # codes 0, 1, 2; anything else 3
OUTCOMES = ("", "answered", "abandoned")  # codes 0, 1, 2; anything else 3
# status + 4 * outcome + 16 * (wait + 1), wait 0 standing for none
_CALL_CODE = ("((CASE r.status WHEN 'routed' THEN 0 WHEN 'fallback' THEN 1"
              " WHEN 'hung_up_in_ivr' THEN 2 ELSE 3 END)"
              " + 4 * (CASE WHEN r.queue_outcome IS NULL THEN 0 WHEN r.queue_outcome ="
              " 'answered' THEN 1 WHEN r.queue_outcome = 'abandoned' THEN 2 ELSE 3 END)"
              " + 16 * coalesce((CASE WHEN r.wait_seconds < 0 THEN 0 ELSE r.wait_seconds END)"
              " + 1, 0))")
# 2 * tenths of a second from start to queue + typed ahead (1 or 0); to_queue_tenths is
# stored with routed_at (store/calls.py), rather than two julianday() calls per call here.
_TO_QUEUE_CODE = ("(2 * r.to_queue_tenths"
                  " + (CASE WHEN r.typed_ahead != 0 THEN 1 ELSE 0 END))")
THREADS = 2



def _key(groups: list[str], last: str) -> str:
    # One format per key: cheaper than a chain of || (each of which copies the string).
    # Always text: PostgreSQL's string_agg takes nothing else.
    if not groups:
        return f"CAST({last} AS TEXT)"
    return f"format(:fmt{len(groups) + 1}, {', '.join([*groups, last])})"


def _day_sql(others: list[str]) -> str:
    calls = _key(others, _CALL_CODE)
    give_ups = (f"CASE WHEN r.status = 'hung_up_in_ivr' THEN"
                f" {_key(others, 'coalesce(r.gave_up_in, :unknown)')} END")
    to_queue = ("CASE WHEN r.to_queue_tenths IS NOT NULL AND r.typed_ahead IS NOT NULL THEN"
                f" {_key(others, _TO_QUEUE_CODE)} END")
    return (f"SELECT group_concat({calls}, :record), group_concat({give_ups}, :record),"
            f" group_concat({to_queue}, :record) FROM reports AS r WHERE {_IN_PERIOD}")


def _danger_sql(groups: list[str]) -> str:
    danger = _key(groups, f"{_CALL_CODE}")
    return (f"SELECT group_concat({danger}, :record) FROM reports AS r"
            f" WHERE {_DANGER_CALLS} AND {_IN_PERIOD}")


def _params(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end, "record": _RECORD, "unknown": UNKNOWN,
            **{f"fmt{n}": _FIELD.join(["%s"] * n) for n in range(2, len(GROUPINGS) + 2)}}


@dataclass
class Stats:
    period: Period
    by: str
    service_level_seconds: int
    rows: list[Figures]
    total: Figures
    questions: list[str] = field(default_factory=list)  # give-up columns, menu order
    # The consent question's answers in the period: 'yes', 'no' (said, or no key after the
    # attempts). Callers not asked (withheld, in danger, off) are in neither.
    consent: Counter[str] = field(default_factory=Counter)
    # Texts to callers queued in the period: sent, delivered, failed, withheld (no consent)
    texts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.total.calls == 0


def _slices(period: Period) -> list[tuple[str, str, str]]:
    """The period a day at a time (the zone's days): (day, start, end) as stored text."""
    return [(day, iso(start), iso(end)) for day, start, end in period.slices()]


@dataclass
class Kind:
    """One kind of key (calls, give-ups, ...) counted two ways: over the whole period
    without the day ('queue<US>rule<US>code'), and per day by the key's last field."""

    # each day's keys, counted; the per-day and whole-period views are made from these
    # only when a grouping needs them (in the main thread, after the scan)
    days: list[tuple[str, Counter[str]]] = field(default_factory=list)

    def add(self, day: str, packed: str | None) -> Counter[str]:
        """Count one day's keys; returns them counted."""
        if not packed:
            return Counter()
        counts = Counter(packed.split(_RECORD))
        self.days.append((day, counts))
        return counts

    def add_dated(self, packed: str | None, slices: list[tuple[str, str, str]]) -> None:
        """Keys that start with their call's started_at (the danger scan covers the whole
        period): counted on the zone's day of `slices` the call started in."""
        if not packed:
            return
        starts = [start for _, start, _ in slices]
        by_day: dict[str, Counter[str]] = {}
        for key, count in Counter(packed.split(_RECORD)).items():
            at, tail = key.split(_FIELD, 1)
            # stored text compares as the instants do, as in the scan's WHERE
            day = slices[bisect_right(starts, at) - 1][0]
            counts = by_day.get(day)
            if counts is None:
                counts = by_day[day] = Counter()
            counts[tail] += count
        self.days.extend(by_day.items())

    def update(self, other: Kind) -> None:
        self.days.extend(other.days)

    def daily(self) -> Counter[tuple[str, str]]:
        """Counts by (day, the key's last field)."""
        daily: Counter[tuple[str, str]] = Counter()
        for day, counts in self.days:
            for key, count in counts.items():
                daily[(day, key[key.rfind(_FIELD) + 1:])] += count
        return daily

    def whole(self) -> Counter[str]:
        # The days' Counters summed: a few thousand distinct keys a day, rather than
        # splitting and counting every call's key a second time.
        total: Counter[str] = Counter()
        for _, counts in self.days:
            total.update(counts)
        return total

    def project(self, position: int | None,
                whole: Counter[str] | None = None) -> Counter[tuple[str, str]]:
        """Counts by (one grouping's value, the last field); position None: the day."""
        if position is None:
            return self.daily()
        projected: Counter[tuple[str, str]] = Counter()
        for key, count in (self.whole() if whole is None else whole).items():
            fields = key.split(_FIELD)
            projected[(fields[position], fields[-1])] += count
        return projected


@dataclass
class Keys:
    """Every call of the period, counted by key."""

    calls: Kind = field(default_factory=Kind)     # ... status/outcome/wait code
    give_ups: Kind = field(default_factory=Kind)  # ... question
    to_queue: Kind = field(default_factory=Kind)  # ... tenths/typed code
    danger: Kind = field(default_factory=Kind)    # ... status/outcome/wait code
    per_day_and_queue: Counter[tuple[str, str]] = field(default_factory=Counter)

    def update(self, other: Keys) -> None:
        for mine, theirs in ((self.calls, other.calls), (self.give_ups, other.give_ups),
                             (self.to_queue, other.to_queue), (self.danger, other.danger)):
            mine.update(theirs)
        self.per_day_and_queue.update(other.per_day_and_queue)


def _scan_day(path: ReportDatabase, others: list[str], queue: int | None, day: str,
              start: str, end: str) -> Keys:
    with connect(path) as conn:
        calls, give_ups, to_queue = conn.execute(_day_sql(others),
                                                 _params(start, end)).fetchone()
    keys = Keys()
    counted = keys.calls.add(day, calls)
    keys.give_ups.add(day, give_ups)
    keys.to_queue.add(day, to_queue)
    if queue is not None:
        for key, count in counted.items():
            keys.per_day_and_queue[(key.split(_FIELD)[queue], day)] += count
    return keys


def _scan_danger(path: ReportDatabase, others: list[str], period: Period) -> Keys:
    # Keyed by started_at, not by its UTC day: the zone's day is found in Python.
    with connect(path) as conn:
        (danger,) = conn.execute(_danger_sql(["r.started_at", *others]),
                                 _params(*period.bounds)).fetchone()
    keys = Keys()
    keys.danger.add_dated(danger, _slices(period))
    return keys


def scan(path: ReportDatabase, others: list[str], period: Period,
         queue: int | None = None) -> Keys:
    """Every call's key in the period: the `others` groupings' values and a last field;
    with `queue` (its position in others), calls per queue and day too."""
    with connect(path):
        pass  # a clear error (missing file, old schema) before any thread starts
    keys = Keys()
    with ThreadPoolExecutor(THREADS) as pool:
        # The danger scan first: it reads every answer, the longest single job.
        jobs = [pool.submit(_scan_danger, path, others, period)]
        jobs += [pool.submit(_scan_day, path, others, queue, *day) for day in _slices(period)]
        for job in jobs:
            keys.update(job.result())
    return keys


def _row(rows: dict[str, Figures], key: str) -> Figures:
    row = rows.get(key)
    if row is None:
        row = rows[key] = Figures(key)
    return row


def _decode(code: str | int) -> tuple[str, str, int | None]:
    value = int(code)
    status = STATUSES[value % 4] if value % 4 < 3 else "other"
    outcome = OUTCOMES[value // 4 % 4] if value // 4 % 4 < 3 else "other"
    wait = value // 16 - 1
    return status, outcome, None if wait < 0 else wait


def _add_calls(rows: dict[str, Figures], keys: Counter[tuple[str, str | int]]) -> None:
    for (key, code), count in keys.items():
        status, outcome, wait = _decode(code)
        row = _row(rows, key)
        row.calls += count
        if status in ("routed", "fallback"):
            row.routed += count
        elif status == "hung_up_in_ivr":
            row.hung_up_in_ivr += count
        if outcome == "answered":
            row.answered += count
        elif outcome == "abandoned":
            row.abandoned += count
        if outcome in ("answered", "abandoned") and wait is not None:
            row.wait.add(wait, count)
            if outcome == "answered":
                row.answered_wait.add(wait, count)


def _add_give_ups(rows: dict[str, Figures], keys: Counter[tuple[str, str | int]]) -> None:
    for (key, question), count in keys.items():
        _row(rows, key).gave_up_in[str(question)] += count


def _add_to_queue(rows: dict[str, Figures], keys: Counter[tuple[str, str | int]]) -> None:
    for (key, code), count in keys.items():
        tenths, typed = divmod(int(code), 2)
        row = _row(rows, key)
        (row.to_queue_typed if typed else row.to_queue_not_typed).add(tenths, count)


def _add_danger(rows: dict[str, Figures], keys: Counter[tuple[str, str | int]]) -> None:
    for (key, code), count in keys.items():
        _, outcome, wait = _decode(code)
        row = _row(rows, key)
        row.danger_calls += count
        if outcome in ("answered", "abandoned") and wait is not None:
            row.danger_wait.add(wait, count)


@dataclass
class Report:
    """Several groupings from one scan, and calls per day and queue when both are there."""

    stats: dict[str, Stats]
    per_day_and_queue: dict[str, dict[str, int]]  # queue -> day -> calls


def _exact(path: ReportDatabase, period: Period,
           bys: list[str]) -> tuple[dict[str, KindCounts], dict[str, dict[str, int]]]:
    """Every grouping's counts from the reports themselves, from one scan."""
    others = [by for by in bys if by != "day"]
    queue = others.index("queue") if "queue" in others else None
    keys = scan(path, [GROUPINGS[by] for by in others], period, queue)
    kinds = (keys.calls, keys.give_ups, keys.to_queue, keys.danger)
    wholes = [kind.whole() for kind in kinds] if others else [Counter[str]()] * 4
    counts: dict[str, KindCounts] = {}
    for by in bys:
        position = None if by == "day" else others.index(by)
        counts[by] = [Counter[tuple[str, str | int]](kind.project(position, whole))
                      for kind, whole in zip(kinds, wholes, strict=True)]
    per_day_and_queue: dict[str, dict[str, int]] = {}
    for (queue_name, day), count in keys.per_day_and_queue.items():
        per_day_and_queue.setdefault(queue_name, {})[day] = count
    return counts, per_day_and_queue


def _summarised(path: ReportDatabase, period: Period, bys: list[str]) -> tuple[
        dict[str, KindCounts], dict[str, dict[str, int]]] | None:
    """The same counts from stats_hourly (schema v10); None when it cannot answer."""
    with connect(path) as conn:
        if not daily_counts.usable(has_hourly(path, conn), period):
            return None
        counts = {by: daily_counts.counts(conn, period, by) for by in bys}
        per_day_and_queue = daily_counts.per_day_and_queue(conn, period) if "queue" in bys else {}
    return counts, per_day_and_queue


def compute_many(path: ReportDatabase, period: Period, groupings: list[str], *,
                 service_level_seconds: int = 20, questions: list[str] | None = None,
                 exact: bool = False) -> Report:
    """Every figure for the period for each grouping: from the per-day summary when the
    schema has it (v9), else (or with `exact`) from one scan of the reports. Both give
    the same figures."""
    bys = list(dict.fromkeys(groupings))
    found = None if exact else _summarised(path, period, bys)
    counts, per_day_and_queue = found if found is not None else _exact(path, period, bys)
    result: dict[str, Stats] = {}
    for by in bys:
        rows: dict[str, Figures] = {}
        for add, kind in zip((_add_calls, _add_give_ups, _add_to_queue, _add_danger),
                             counts[by], strict=True):
            add(rows, kind)
        result[by] = _stats(period, by, rows, service_level_seconds, questions)
    consent = consent_counts(path, period)
    texts = text_counts(path, period)
    for stats in result.values():
        stats.consent = Counter(consent)
        stats.texts = dict(texts)
    return Report(result, per_day_and_queue)


def _stats(period: Period, by: str, rows: dict[str, Figures], service_level_seconds: int,
           questions: list[str] | None) -> Stats:
    if by == "day":
        for day in period.each_day():
            rows.setdefault(day, Figures(day))
    total = Figures("total")
    for row in rows.values():
        total.merge(row)
    known = list(questions or [])
    # ties by name: the same order whichever way the counts were made
    seen = sorted(set(total.gave_up_in) - set(known), key=lambda q: (-total.gave_up_in[q], q))
    return Stats(period, by, service_level_seconds, [rows[k] for k in sorted(rows)], total,
                 [q for q in known if q in total.gave_up_in] + seen)


def compute(path: ReportDatabase, period: Period, by: str, *,
            service_level_seconds: int = 20, questions: list[str] | None = None,
            exact: bool = False) -> Stats:
    """Every figure for the period, one row per group (every day of the period for
    `day`, calls or not), and the total."""
    return compute_many(path, period, [by], service_level_seconds=service_level_seconds,
                        questions=questions, exact=exact).stats[by]
