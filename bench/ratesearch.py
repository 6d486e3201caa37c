"""Which new-call rate to try next: double until a step fails, then bisect (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class RateSearch:
    start: float
    factor: float = 2.0
    max_steps: int = 6
    resolution: float = 0.15  # stop when the failed rate is within this of the best good one
    tried: list[tuple[float, bool]] = field(default_factory=list)

    @property
    def best(self) -> float | None:
        """The highest rate that held."""
        good = [rate for rate, ok in self.tried if ok]
        return max(good) if good else None

    @property
    def lowest_failed(self) -> float | None:
        bad = [rate for rate, ok in self.tried if not ok]
        return min(bad) if bad else None

    def record(self, rate: float, ok: bool) -> None:
        self.tried.append((rate, ok))

    def next_rate(self) -> float | None:
        """The next rate to try, or None when done."""
        if len(self.tried) >= self.max_steps:
            return None
        if not self.tried:
            return self.start
        best, failed = self.best, self.lowest_failed
        if failed is None:
            return round(self.factor * (best or self.start), 2)
        if best is None:
            return round(failed / self.factor, 2)
        if failed <= best * (1 + self.resolution):
            return None
        return round(math.sqrt(best * failed), 2)
