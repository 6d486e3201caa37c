"""Who saw callers' numbers: each `balagh reports --show-numbers` is a maintenance_runs row.

Listings and exports mask numbers by default; asking for them in full is an act to
account for, so it is written (and the write awaited by the command) before any number
is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .events import encode
from .timestamps import iso
from .writer import Statement, Writer

SHOW_NUMBERS = "show-numbers"


def record_numbers_shown(writer: Writer, *, at: datetime, user: str,
                         filters: Mapping[str, Any], rows: int) -> None:
    """Enqueue the record: the OS user, the filters (or reference) and how many reports."""
    detail = encode({"user": user, "filters": dict(filters)})

    def build() -> list[Statement]:
        return [("INSERT INTO maintenance_runs (at, action, before, rows, outcome, detail)"
                 " VALUES (?, ?, NULL, ?, 'done', ?)",
                 (iso(at), SHOW_NUMBERS, int(rows), detail))]

    writer.submit("record_numbers_shown", build, user=user)


class Disclosures:
    """The part `balagh reports --show-numbers` is given."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    async def numbers_shown(self, *, at: datetime, user: str, filters: Mapping[str, Any],
                            rows: int) -> bool:
        """Record a use of --show-numbers and wait for it: True once it is committed,
        False when it was lost (then no number may be shown)."""
        errors = self.writer.write_errors
        record_numbers_shown(self.writer, at=at, user=user, filters=filters, rows=rows)
        await self.writer.flush()
        return self.writer.write_errors == errors


__all__ = ["SHOW_NUMBERS", "Disclosures", "record_numbers_shown"]
