"""Rows of cells as aligned text columns: the reports' table, the statistics' table and
the CLI's listings line up the same way; and as CSV, a header first."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence


def table_lines(rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """Rows of cells as lines of columns two spaces apart; `right` columns right-aligned."""
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(cell.rjust(width) if col in right else cell.ljust(width)
                  for col, (cell, width) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The header and the rows as CSV, one line each ("\\n")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


__all__ = ["csv_text", "table_lines"]
