"""Figures from measured values: percentiles, summaries, ratios, targets (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): a value that was measured, never interpolated."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Summary:
    count: int
    min: float
    median: float
    p95: float
    p99: float
    max: float

    def text(self, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
        def f(value: float) -> str:
            return f"{value * scale:.{digits}f}"
        return (f"min {f(self.min)} / median {f(self.median)} / p95 {f(self.p95)} / "
                f"p99 {f(self.p99)} / max {f(self.max)} {unit} (n={self.count})")


def summarise(values: Sequence[float]) -> Summary | None:
    if not values:
        return None
    return Summary(len(values), min(values), percentile(values, 50), percentile(values, 95),
                   percentile(values, 99), max(values))


def ratio(balagh: float | None, native: float | None) -> float | None:
    if balagh is None or not native:
        return None
    return balagh / native


def verdict(value: float | None, target: float, *, below: bool = True) -> str:
    """'met' when value is under (below=True) or at least (below=False) the target."""
    if value is None:
        return "not measured"
    ok = value < target if below else value >= target
    return "met" if ok else "not met"
