"""Manners of a command that deletes or rewrites data: ask first, say how far it got.

On a terminal the command asks (showing how many rows would go); elsewhere (cron, a
script, a pipe) nobody can answer, so it needs --yes and refuses, in one line, without.
Long chunked jobs report rows done / total on stderr, so stdout stays the result.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

# A line at most this often when stderr is a file or a journal (a terminal: every chunk).
PROGRESS_EVERY_SECONDS = 2.0


class Refused(Exception):
    """Not confirmed: the message says why and what to do; the exit status goes with it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def add_yes_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", "-y", action="store_true",
                        help="do it without asking (needed when not on a terminal)")


def confirm(question: str, *, yes: bool, stdin: TextIO | None = None,
            stderr: TextIO | None = None) -> None:
    """Return when the user agreed (or gave --yes); Refused otherwise.

    `question` says what would happen, with the count (e.g. "delete 20000 report(s)
    started before 2026-01-01"): it is what the user answers."""
    stdin, stderr = stdin or sys.stdin, stderr or sys.stderr
    if yes:
        return
    if not stdin.isatty():
        raise Refused(f"error: would {question}; not on a terminal to ask: add --yes to do "
                      "it", 2)
    stderr.write(f"{question[:1].upper()}{question[1:]}? [y/N] ")
    stderr.flush()
    answer = stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise Refused("nothing changed", 1)


class Progress:
    """`label: done/total rows (n%)` on stderr as chunks finish: on a terminal one line
    rewritten in place, elsewhere a line every PROGRESS_EVERY_SECONDS and at the end."""

    def __init__(self, label: str, total: int, out: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self.shown_at: float | None = None
        self.last = -1

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if not self.live and self.shown_at is not None \
                and now - self.shown_at < PROGRESS_EVERY_SECONDS:
            return
        self._show(done, now)

    def finish(self, done: int) -> None:
        """The last figure, always shown (and the terminal's line ended)."""
        if done != self.last:
            self._show(done, time.monotonic())
        if self.live and self.last >= 0:
            self.out.write("\n")
            self.out.flush()

    def _show(self, done: int, now: float) -> None:
        share = f" ({100 * done // self.total}%)" if self.total else ""
        line = f"{self.label}: {done}/{self.total} rows{share}"
        self.out.write(f"\r{line}" if self.live else f"{line}\n")
        self.out.flush()
        self.shown_at, self.last = now, done


__all__ = ["PROGRESS_EVERY_SECONDS", "Progress", "Refused", "add_yes_argument", "confirm"]
