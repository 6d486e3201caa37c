"""What py-spy's collapsed stacks say: where the app's samples were spent (pure)."""

from __future__ import annotations

import re
from collections import Counter

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def parse(collapsed: str) -> list[tuple[list[str], int]]:
    """'a (x.py:1);b (y.py:2) 7' lines -> [([frame, ...], 7), ...]."""
    stacks = []
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    """'_wait_until (balagh/ari/call.py:70)' -> '_wait_until (balagh/ari/call.py)'."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "python3.11/", "agi/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['func']} ({path})"


def self_time(stacks: list[tuple[list[str], int]]) -> Counter[str]:
    """Samples by the innermost frame."""
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            counts[short(frames[-1])] += count
    return counts


def inclusive(stacks: list[tuple[list[str], int]], only: str = "balagh/") -> Counter[str]:
    """Samples under each of our own functions (counted once per stack)."""
    counts: Counter[str] = Counter()
    for frames, count in stacks:
        for name in {short(f) for f in frames if only in f}:
            counts[name] += count
    return counts


def top_frames(collapsed: str, what: str, n: int = 6) -> str:
    stacks = parse(collapsed)
    total = sum(count for _, count in stacks) or 1

    def fmt(counter: Counter[str]) -> str:
        return "; ".join(f"{name} {count * 100 / total:.0f}%"
                         for name, count in counter.most_common(n))

    return (f"py-spy, Balagh app, {what} ({total} samples, idle "
            f"included): innermost frames: {fmt(self_time(stacks))}. Under Balagh's own "
            f"functions: {fmt(inclusive(stacks))}.")
