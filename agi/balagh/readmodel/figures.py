"""The figures for one group of calls (a day, a queue, ...), built from exact histograms.

Waits are whole seconds in the database, so a histogram of them gives exact means and
percentiles without holding a million values; answer-to-queue times are kept in tenths
of a second. Percentiles are nearest-rank: the smallest value that at least p % of the
calls did not exceed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class Histogram:
    """How many calls had each (whole-number) value."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def add(self, value: int, count: int = 1) -> None:
        self.counts[value] += count

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def mean(self) -> float | None:
        n = self.n
        return sum(v * c for v, c in self.counts.items()) / n if n else None

    def percentile(self, p: float) -> int | None:
        n = self.n
        if not n:
            return None
        rank = max(1, -(-n * p // 100))  # ceil(n * p / 100), at least the first call
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        raise AssertionError("unreachable: rank <= n")

    def at_most(self, limit: int) -> int:
        return sum(c for v, c in self.counts.items() if v <= limit)


def _tenths(value: int | None) -> float | None:
    return None if value is None else value / 10


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """One row of `balagh stats`: every figure for the calls of one group."""

    key: str
    calls: int = 0
    routed: int = 0          # reached a queue (routed or fallback)
    answered: int = 0        # answered by an agent
    abandoned: int = 0       # hung up while waiting in the queue
    hung_up_in_ivr: int = 0  # hung up before the end of the questions
    gave_up_in: Counter[str] = field(default_factory=Counter)  # question -> callers
    wait: Histogram = field(default_factory=Histogram)           # answered + abandoned
    answered_wait: Histogram = field(default_factory=Histogram)  # answered only
    danger_calls: int = 0
    danger_wait: Histogram = field(default_factory=Histogram)
    # answer-to-queue (routed_at - started_at), tenths of a second, by the last key
    to_queue_typed: Histogram = field(default_factory=Histogram)
    to_queue_not_typed: Histogram = field(default_factory=Histogram)

    def merge(self, other: Figures) -> None:
        self.calls += other.calls
        self.routed += other.routed
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.hung_up_in_ivr += other.hung_up_in_ivr
        self.gave_up_in.update(other.gave_up_in)
        self.danger_calls += other.danger_calls
        for mine, theirs in ((self.wait, other.wait), (self.answered_wait, other.answered_wait),
                             (self.danger_wait, other.danger_wait),
                             (self.to_queue_typed, other.to_queue_typed),
                             (self.to_queue_not_typed, other.to_queue_not_typed)):
            mine.merge(theirs)

    def service_level(self, seconds: int) -> float | None:
        """Answered within `seconds` of joining the queue, over every caller who waited
        there to an end (answered or abandoned): the contact-centre 80/20 measure."""
        return _ratio(self.answered_wait.at_most(seconds), self.answered + self.abandoned)

    def as_dict(self, service_level_seconds: int) -> dict[str, Any]:
        """The figures as plain values (rates 0..1, seconds), for CSV, JSON and tables."""
        return {
            "key": self.key,
            "calls": self.calls,
            "answered": self.answered,
            "abandoned_in_queue": self.abandoned,
            "abandoned_in_ivr": self.hung_up_in_ivr,
            "service_level": self.service_level(service_level_seconds),
            "wait_avg": self.wait.mean(),
            "wait_p95": self.wait.percentile(95),
            "danger_calls": self.danger_calls,
            "danger_wait_avg": self.danger_wait.mean(),
            "danger_wait_p95": self.danger_wait.percentile(95),
            "to_queue_typed_ahead_p50": _tenths(self.to_queue_typed.percentile(50)),
            "to_queue_typed_ahead_p95": _tenths(self.to_queue_typed.percentile(95)),
            "to_queue_not_typed_ahead_p50": _tenths(self.to_queue_not_typed.percentile(50)),
            "to_queue_not_typed_ahead_p95": _tenths(self.to_queue_not_typed.percentile(95)),
            "gave_up_in": dict(self.gave_up_in),
        }
