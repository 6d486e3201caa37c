"""`balagh stats`: calls, answers, abandons, service level, waits and give-ups for a period.

  balagh stats --month 2026-11 --by queue          an aligned table
  balagh stats --week 2026-W47 --format csv        CSV (or json) of the same rows
  balagh stats --month 2026-11 --plot stats.png    the charts, one PNG with three panels
  balagh stats --month 2026-11 --followup          the units' statuses, time to resolved
  balagh stats --month 2026-11 --survey            satisfaction calls' answers per unit and month
  balagh stats --month 2026-11 --dispositions      agents' dispositions per queue
  balagh stats --since 2026-12-07 --by agent       each agent: offered, answered, missed,
                                                   talk, pause and wrap-up time

Read-only: it opens the report database with mode=ro (on a PostgreSQL server, `database_url`,
a read-only session), so a running app is not disturbed.
docs/statistics.md explains every figure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

from balagh.config import Settings
from balagh.readmodel import statistics as query
from balagh.readmodel.followups import followup_figures
from balagh.readmodel.period import Period, PeriodError, choose
from balagh.readmodel.statistics import GROUPINGS, StatsError
from balagh.stats import followup, render
from balagh.stats.questions import menu_questions
from balagh.store.opening import report_database

AGENT = "agent"  # one row per agent, from the agents' activity (readmodel/agents.py)
FiguresT = TypeVar("FiguresT")

__all__ = ["add_period_arguments", "menu_questions", "period_from", "register"]


def add_period_arguments(parser: argparse.ArgumentParser) -> None:
    """--month / --week / --since --until and --database: shared with report-pack."""
    when = parser.add_argument_group(
        "period (days in the hotline's time zone, balagh.yaml `timezone`; default: the last "
        "30 days)")
    when.add_argument("--month", metavar="YYYY-MM", help="a calendar month, e.g. 2026-11")
    when.add_argument("--week", metavar="YYYY-Www", help="an ISO week, e.g. 2026-W47")
    when.add_argument("--since", metavar="YYYY-MM-DD", help="first day, included")
    when.add_argument("--until", metavar="YYYY-MM-DD", help="last day, included")
    parser.add_argument("--service-level-seconds", type=int, default=20, metavar="N",
                        help="service level: answered within N seconds (default 20)")
    parser.add_argument("--database", type=Path,
                        help="a report database file (default: the settings' database: the "
                        "PostgreSQL server of database_url, else the file in the data directory)")


def period_from(args: argparse.Namespace, zone: tzinfo) -> Period:
    """The period the options name, its days counted in the hotline's `zone`."""
    return choose(month=args.month, week=args.week, since=args.since, until=args.until,
                  zone=zone)


def _print_figures(settings: Settings, args: argparse.Namespace,
                   figures_of: Callable[[Period], FiguresT], empty: Callable[[FiguresT], bool],
                   nothing: str, write: Callable[[FiguresT], str], *,
                   table_says_nothing: bool = False) -> int:
    """The period's figures printed by `write`; a bad period or database is one line and
    exit 2; an empty period is said on stderr ("no <nothing> in ...") and, with
    `table_says_nothing`, an empty table is not printed at all."""
    try:
        period = period_from(args, settings.zone)
        figures = figures_of(period)
    except (PeriodError, StatsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if empty(figures):
        print(f"no {nothing} in {period.label} ({period.shown}, {period.zone})",
              file=sys.stderr)
        if table_says_nothing and args.format == "table":
            return 0
    print(write(figures).rstrip("\n"))
    return 0


def _followup(settings: Settings, args: argparse.Namespace) -> int:
    return _print_figures(
        settings, args,
        lambda period: followup_figures(args.database or report_database(settings), period),
        lambda figures: figures.empty, "routed calls", followup.WRITERS[args.format])


def _survey(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.readmodel.survey import survey_figures
    from balagh.stats import survey

    return _print_figures(
        settings, args,
        lambda period: survey_figures(args.database or report_database(settings), period),
        lambda figures: figures.empty, "satisfaction calls", survey.WRITERS[args.format],
        table_says_nothing=True)


def _dispositions(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.readmodel.dispositions import by_queue, disposition_counts

    return _print_figures(
        settings, args,
        lambda period: by_queue(disposition_counts(settings.console_database, period)),
        lambda table: not table, "dispositions",
        lambda table: render.dispositions(table, settings.console.dispositions, args.format))


def _agents(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.readmodel import agents
    from balagh.stats import agent_table

    output = {"table": agent_table.table, "csv": agent_table.as_csv,
              "json": agent_table.as_json}[args.format]
    return _print_figures(
        settings, args,
        lambda period: agents.compute(args.database or report_database(settings), period,
                                      datetime.now(UTC), queues=args.queue or None),
        lambda stats: stats.empty, "agent activity", output, table_says_nothing=True)


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    if args.followup:
        return _followup(settings, args)
    if args.survey:
        return _survey(settings, args)
    if args.dispositions:
        return _dispositions(settings, args)
    if args.by == AGENT:
        if args.plot:
            print("error: --plot draws calls, not agents: leave it out with --by agent",
                  file=sys.stderr)
            return 2
        return _agents(settings, args)
    try:
        period = period_from(args, settings.zone)
        # --plot needs days and queues too: the same scan gives them at no extra cost.
        wanted = [args.by, "day", "queue"] if args.plot else [args.by]
        report = query.compute_many(args.database or report_database(settings), period, wanted,
                                    service_level_seconds=args.service_level_seconds,
                                    questions=menu_questions(settings))
    except (PeriodError, StatsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stats = report.stats[args.by]
    if args.plot:
        from balagh.stats import charts  # matplotlib is slow to import: only when drawing

        charts.write_overview(args.plot, report.stats["day"], report.stats["queue"],
                              report.per_day_and_queue)
    if stats.empty:
        print(f"no calls in {period.label} ({period.shown}, {period.zone})", file=sys.stderr)
        if args.format == "table":
            return 0
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    output = {"table": render.table, "csv": render.as_csv, "json": render.as_json}[args.format]
    print(output(stats).rstrip("\n"))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "stats", help="calls, service level, waits and where callers give up, for a period",
        description="Figures for a period, one row per day, queue, category (routing rule), "
        "emirate, language or agent, and a total. See docs/statistics.md.")
    add_period_arguments(parser)
    parser.add_argument("--by", choices=[*GROUPINGS, AGENT], default="day",
                        help="one row per ... (default day)")
    parser.add_argument("--queue", action="append", metavar="NAME",
                        help="with --by agent: only the agents' activity in this queue "
                        "(repeatable)")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="also draw the charts into this PNG (calls per day per queue, "
                        "service level per day, waits per queue)")
    parser.add_argument("--followup", action="store_true",
                        help="the units' follow-up instead: reports per status, and per queue "
                        "and unit the time from the call to resolved (median, 90th percentile)")
    parser.add_argument("--survey", action="store_true",
                        help="the satisfaction calls instead: per month, unit and question, "
                        "the callees who gave each answer and those who pressed no key")
    parser.add_argument("--dispositions", action="store_true",
                        help="agents' dispositions after their calls (genuine, silent, "
                        "prank, ...) per queue, from the console's database")
    parser.set_defaults(func=_stats)
