"""The report pages: the search (limited to the queues the viewer may see), its CSV,
one report's timeline, and the statistics page."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta, tzinfo
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
)

from balagh.localtime import shown
from balagh.localtime import today as zone_today
from balagh.privacy import mask_number
from balagh.readmodel import statistics as stats_query
from balagh.readmodel.figures import Figures
from balagh.readmodel.period import days_period
from balagh.readmodel.reader import open_reader
from balagh.readmodel.rows import report_consent, write_csv
from balagh.readmodel.search import ReportSearch, parse_moment
from balagh.readmodel.timeline import timeline_lines
from balagh.stats.questions import menu_questions
from balagh.store.opening import exists, report_database
from balagh.store.queries import Report

from . import pages
from .access import Access
from .accounts import Session
from .context import (
    Console,
    console_of,
    html_page,
    language_of,
    remote_of,
)

REPORT_ROWS = 200
CSV_ROWS = 100_000


def _search(params: dict[str, str], limit: int | None, zone: tzinfo) -> ReportSearch:
    """The page's filters; dates are the hotline's days (`zone`)."""
    danger = {"yes": True, "no": False}.get(params.get("danger", ""))
    return ReportSearch(
        since=parse_moment(params["since"], zone) if params.get("since") else None,
        until=parse_moment(params["until"], zone, end_of_day=True)
        if params.get("until") else None,
        queue=params.get("queue") or None, outcome=params.get("outcome") or None,
        danger=danger, emirate=params.get("emirate") or None,
        language=params.get("language") or None, limit=limit)


async def _reports(console: Console, access: Access, search: ReportSearch) -> list[Report]:
    """The search, limited to the queues this user may see (one search per queue)."""
    database = report_database(console.settings)
    if not exists(database):
        return []
    async with open_reader(database, busy_timeout_ms=2000) as reader:
        return await reader.search_visible(search, access.queues)


def _visible_queues(console: Console, access: Access) -> list[str]:
    """The configured queues (and any AMI shows besides) this user may see: a choice
    that does not depend on AMI being up."""
    names = {*console.choices.queues, *(q["name"] for q in console.feed.snapshot["queues"])}
    return sorted(n for n in names if access.may_see(n))


async def reports(request: Request, session: Session) -> Response:
    console, lang = console_of(request), language_of(request)
    params = dict(request.query_params)
    if params.get("ref", "").isdigit():
        return RedirectResponse(f"/reports/{params['ref']}", 303)
    access = console.access(session)
    try:
        search = _search(params, REPORT_ROWS, console.settings.zone)
    except ValueError as exc:
        return html_page(request, pages.message_page(lang, pages.label(lang, "reports"), str(exc),
                                                 user=session.user.name, csrf=session.csrf),
                     400)
    found = await _reports(console, access, search)
    await console.accounts.audit(session.user.name, "reports-searched",
                                 {**search.described(), "rows": len(found)}, remote_of(request))
    zone = console.settings.zone
    rows = [(r.reference, shown(r.started_at, zone), r.status,
             r.joined_queue or r.queue, r.queue_outcome,
             r.wait_seconds, mask_number(r.caller), r.location) for r in found]
    csv_query = urlencode([(k, v) for k, v in params.items() if k != "lang"])
    return html_page(request, pages.reports_page(
        lang, user=session.user.name, csrf=session.csrf, params=params,
        queues=_visible_queues(console, access), choices=console.choices,
        csv_query=csv_query, rows=rows))


async def reports_csv(request: Request, session: Session) -> Response:
    console = console_of(request)
    params = dict(request.query_params)
    try:
        search = _search(params, CSV_ROWS, console.settings.zone)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    found = await _reports(console, console.access(session), search)
    out = io.StringIO()
    # numbers masked and times in the hotline's zone, as `balagh reports`
    write_csv(found, out, show_numbers=False, zone=console.settings.zone)
    await console.accounts.audit(session.user.name, "reports-exported",
                                 {**search.described(), "rows": len(found)}, remote_of(request))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="balagh-reports.csv"'})


async def report(request: Request, session: Session) -> Response:
    console, lang = console_of(request), language_of(request)
    reference = str(request.path_params["reference"])
    found: Report | None = None
    timeline: list[str] = []
    database = report_database(console.settings)
    if exists(database):
        async with open_reader(database, busy_timeout_ms=2000) as reader:
            found = await reader.get_report(reference)
            if found is not None and found.reference == reference:
                timeline = timeline_lines(found.started_at, await reader.timeline(reference),
                                          console.settings.zone)
    access = console.access(session)
    if found is None or found.reference != reference or \
            not access.may_see(found.joined_queue or found.queue):
        return html_page(request, pages.message_page(
            lang, pages.label(lang, "reports"), pages.label(lang, "not_found"),
            user=session.user.name, csrf=session.csrf), 404)
    await console.accounts.audit(session.user.name, "report-viewed", {"reference": reference},
                                 remote_of(request))
    facts = (("reference", found.reference),
             ("started", shown(found.started_at, console.settings.zone)),
             ("status", found.status), ("queue", found.joined_queue or found.queue),
             ("category", found.rule), ("outcome", found.queue_outcome),
             ("agent", found.answered_by), ("wait", found.wait_seconds),
             ("caller", mask_number(found.caller)), ("emirate", found.location),
             ("language", found.language),
             ("consent", report_consent(found)),
             ("followup_status", found.followup_status))
    return html_page(request, pages.report_page(
        lang, user=session.user.name, csrf=session.csrf, reference=reference, facts=facts,
        answers=list(found.answers.items()), timeline="\n".join(timeline)))


async def stats(request: Request, session: Session) -> Response:
    """Figures for a period with balagh.stats (the same numbers as `balagh stats`)."""
    console, lang = console_of(request), language_of(request)
    params = dict(request.query_params)
    access = console.access(session)
    zone = console.settings.zone
    today = zone_today(zone)  # the hotline's day, not UTC's
    try:
        first = date.fromisoformat(params.get("since") or
                                   (today - timedelta(days=6)).isoformat())
        last = date.fromisoformat(params.get("until") or today.isoformat())
    except ValueError:
        first, last = today - timedelta(days=6), today
    if last < first or (last - first).days >= 366:
        last = first
    period = days_period(first, last, zone)
    by = str(params.get("by")) if params.get("by") in stats_query.GROUPINGS else "day"
    if access.queues is not None:
        by = "queue"  # a supervisor sees their queues' rows, not totals over every queue
    params["by"] = by
    try:
        result = await asyncio.to_thread(stats_query.compute_many,
                                         report_database(console.settings),
                                         period, [by], questions=menu_questions(console.settings))
        figures = result.stats[by]
        rows = [row for row in figures.rows if by != "queue" or access.may_see(row.key)]
    except stats_query.StatsError:
        figures, rows = None, []
    seconds = figures.service_level_seconds if figures else 20
    # The first column is the grouping (day, queue, ...): its heading is the grouping's name.
    columns = (by, "calls", "answered", "abandoned", "service_level_period", "wait_avg")

    def cells(row: Figures) -> tuple[object, ...]:
        level, wait = row.service_level(seconds), row.wait.mean()
        return (row.calls, row.answered, row.abandoned,
                None if level is None else f"{100 * level:.0f}%",
                None if wait is None else f"{wait:.0f}")

    rows_shown = [(row.key, *cells(row)) for row in rows]
    # The total of the rows shown: every queue's for an admin, a supervisor's own queues'.
    whole = Figures("total")
    for row in rows:
        whole.merge(row)
    total = cells(whole) if rows else None
    await console.accounts.audit(session.user.name, "stats-viewed",
                                 {"period": period.label, "by": by}, remote_of(request))
    filters = {**params, "since": first.isoformat(), "until": last.isoformat()}
    return html_page(request, pages.stats_page(
        lang, user=session.user.name, csrf=session.csrf, filters=filters,
        chart=pages.bar_chart([(row.key, float(row.calls)) for row in rows]),
        columns=columns, rows=rows_shown, total=total))
