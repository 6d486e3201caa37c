"""`balagh report-pack`: the periodic report, one self-contained HTML file.

  balagh report-pack --month 2026-11 --language ar --output report-2026-11-ar.html
  balagh report-pack --week 2026-W47 --language en --output week-47.html

For the people the hotline sends its periodic reports to: the period's figures by day,
queue, category, emirate and language, where callers give up in the menu, and three
charts, in Arabic (right to left) or English. Nothing to install to read it: styles
and charts are inside the file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from balagh.cli.stats import add_period_arguments, menu_questions, period_from
from balagh.config import Settings
from balagh.readmodel.period import PeriodError
from balagh.readmodel.statistics import StatsError
from balagh.store.opening import report_database
from balagh.texts import LANGUAGES

__all__ = ["register"]


def _report_pack(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.stats import pack  # matplotlib: imported only when a report is written

    began = time.perf_counter()
    try:
        period = period_from(args, settings.zone)
        data = pack.collect(args.database or report_database(settings), period,
                            service_level_seconds=args.service_level_seconds,
                            questions=menu_questions(settings),
                            console_database=settings.console_database,
                            disposition_order=settings.console.dispositions)
    except (PeriodError, StatsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output: Path = args.output or Path(f"balagh-report-{period.label}-{args.language}.html")
    output.write_text(pack.render(data, args.language), encoding="utf-8")
    calls = data.total.total.calls
    note = "no calls in this period; " if not calls else f"{calls} calls; "
    print(f"wrote {output} ({note}{output.stat().st_size // 1024} KiB,"
          f" {time.perf_counter() - began:.1f} s)", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report-pack", help="the periodic report for a month or a week: one HTML file",
        description="Write the periodic report (figures, where callers give up, charts) for "
        "a period as one self-contained HTML file, in Arabic or English.")
    add_period_arguments(parser)
    parser.add_argument("--language", choices=LANGUAGES, default="ar",
                        help="the report's language (default ar, right to left)")
    parser.add_argument("--output", "-o", type=Path, metavar="FILE.html",
                        help="where to write it (default balagh-report-PERIOD-LANG.html)")
    parser.set_defaults(func=_report_pack)
