"""An agent's page: the report of the call ringing their queue member, before they answer;
it stays while they talk, then a short form (a disposition from the configured list and a
bounded note); a pause with a configured reason, and back (AMI QueuePause, their member
only).

Which call is where comes from app_queue's events (agent_desk.py, fed by `follow` on the
console's AMI session); the report from the read model by the caller's call id. The page
is rendered whole on the server; static/agent.js only asks /agent/state every second and
reloads the page when the desk changes. An agent sees only calls that rang their member.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from balagh.ami.client import AmiSession
from balagh.privacy import mask_number
from balagh.readmodel.reader import open_reader
from balagh.readmodel.rows import report_consent
from balagh.store.opening import exists, report_database
from balagh.store.queries import Report
from balagh.timeouts import within
from balagh.vocabulary import DANGER_QUESTION

from . import pages
from .accounts import Session
from .agent_desk import DESK_EVENTS, AgentDesk, DeskCall, member_key
from .context import console_of, form_fields, html_page, language_of, remote_of
from .dispositions import Disposition, DispositionError, now_iso

log = structlog.get_logger(__name__)
AMI_SECONDS = 5.0
PAUSE_CONTEXT = "balagh-agent-pause"  # dialplan/extensions_balagh.conf


async def follow(ami: AmiSession, desk: AgentDesk) -> None:
    """Feed the desks from the console's AMI session (the board's session: one login)."""
    events = ami.listen(lambda e: e.get("Event") in DESK_EVENTS)
    try:
        while True:
            desk.apply(await events.get(), time.time())
    finally:
        ami.unlisten(events)


async def _report(request: Request, call_id: str) -> tuple[Report | None, int | None]:
    database = report_database(console_of(request).settings)
    if not exists(database):
        return None, None
    async with open_reader(database, busy_timeout_ms=2000) as reader:
        found = await reader.get_report(call_id)
        if found is None or found.call_id != call_id:
            return None, None
        return found, await reader.repeat_calls(found)


def _facts(report: Report, repeat: int | None) -> list[tuple[str, object]]:
    """What the agent must know first, danger on top (the order of the issue)."""
    answers = report.answers
    return [("danger", answers.get(DANGER_QUESTION)),
            ("queue", report.joined_queue or report.queue),
            ("age", answers.get("age")), ("gender", answers.get("gender")),
            ("emirate", report.location or answers.get("emirate")),
            ("location_source", report.location_source),
            ("condition", answers.get("condition")),
            ("repeat_calls", repeat), ("consent", report_consent(report)),
            ("caller", mask_number(report.caller)), ("reference", report.reference)]


async def _paused(request: Request, member: str) -> tuple[bool, str | None]:
    """Whether the member is paused in any queue, and the reason given (QueueStatus)."""
    ami = console_of(request).feed.ami
    if not ami.connected.is_set():
        return False, None
    try:
        found = await ami.action_list({"Action": "QueueStatus", "Member": member},
                                      timeout=AMI_SECONDS)
    except Exception as exc:
        log.warning("console.agent_status_failed", member=member, error=str(exc))
        return False, None
    key = member_key(member)
    for event in found:
        names = {member_key(str(event.get(field, "")))
                 for field in ("Location", "StateInterface", "Name")}
        if event.get("Event") == "QueueMember" and key in names and \
                str(event.get("Paused")) == "1":
            return True, str(event.get("PausedReason") or "") or None
    return False, None


async def agent_page(request: Request, session: Session, *, error: str | None = None,
                     form: dict[str, str] | None = None, status: int = 200) -> Response:
    console, lang = console_of(request), language_of(request)
    member = session.user.member or ""
    desk: DeskCall | None = console.desk.current(member)
    after: DeskCall | None = console.desk.after_call(member)
    shown = desk or after  # the call ringing or talking first; else the one just ended
    report, repeat = (await _report(request, shown.call_id)) if shown else (None, None)
    paused, reason = await _paused(request, member)
    settings = console.settings.console
    body = pages.render(
        "agent.html", lang, pages.label(lang, "agent_page"), user=session.user.name,
        csrf=session.csrf, page="agent", member=member, desk=shown, after=after,
        report=report,
        facts=_facts(report, repeat) if report else [], answers_shown=bool(report),
        dispositions=settings.dispositions, note_max=settings.note_max_chars,
        pause_reasons=settings.pause_reasons, paused=paused, paused_reason=reason,
        error=error, form=form or {}, saved=request.query_params.get("saved") == "1",
        desk_key=_desk_key(desk, after))
    return html_page(request, body, status)


def _desk_key(desk: DeskCall | None, after: DeskCall | None) -> str:
    """What the page shows, in one word: the page reloads when it changes."""
    return "|".join(f"{call.call_id}:{call.state}" if call else "-" for call in (desk, after))


async def agent_home(request: Request, session: Session) -> Response:
    return await agent_page(request, session)


async def agent_state(request: Request, session: Session) -> Response:
    desk, member = console_of(request).desk, session.user.member or ""
    return JSONResponse({"desk": _desk_key(desk.current(member), desk.after_call(member))})


async def save_disposition(request: Request, session: Session) -> Response:
    console = console_of(request)
    form = await form_fields(request)
    member = session.user.member or ""
    call_id = form.get("call_id", "")
    disposition, note = form.get("disposition", ""), form.get("note", "").strip()
    if not console.desk.took(member, call_id):
        await console.accounts.audit(session.user.name, "disposition-refused",
                                     {"call_id": call_id[:64], "why": "not their call"},
                                     remote_of(request))
        return await agent_page(request, session, error="not_your_call", form=form, status=403)
    book = console.dispositions
    if book is None:  # create_app always opens it; a Console built without one takes none
        return JSONResponse({"error": "dispositions are not kept here"}, 503)
    if (problem := book.problem(disposition, note)) is not None:
        # What was typed stays in the form: nothing the agent wrote is lost.
        return await agent_page(request, session, error=problem, form=form, status=400)
    desk = console.desk.after_call(member)
    report, _repeat = await _report(request, call_id)
    # The report's queue first: the one statistics count by (the desk's is app_queue's).
    queue = (report.joined_queue or report.queue if report else None) or \
        (desk.queue if desk and desk.call_id == call_id else None) or ""
    try:
        await asyncio.to_thread(book.save, Disposition(
            call_id, report.reference if report else None, queue, member, session.user.name,
            disposition, note or None, now_iso()))
    except DispositionError as exc:
        return await agent_page(request, session, error=str(exc), form=form, status=400)
    console.desk.done(member, call_id)
    await console.accounts.audit(session.user.name, "disposition-saved",
                                 {"call_id": call_id, "disposition": disposition,
                                  "queue": queue}, remote_of(request))
    return RedirectResponse("/agent?saved=1", 303)


async def pause(request: Request, session: Session) -> Response:
    return await _pause(request, session, True)


async def unpause(request: Request, session: Session) -> Response:
    return await _pause(request, session, False)


async def _pause(request: Request, session: Session, paused: bool) -> Response:
    """Pause (or unpause) the agent's own member in every queue it is in, with a reason;
    nobody else's: the member is the account's, never the form's."""
    console = console_of(request)
    form = await form_fields(request)
    member = session.user.member or ""
    reason = form.get("reason", "") if paused else ""
    if paused and reason not in console.settings.console.pause_reasons:
        return await agent_page(request, session, error="pause_reason_unknown", form=form,
                                status=400)
    ok = await set_paused(console.feed.ami, member, paused, reason)
    await console.accounts.audit(session.user.name, "paused" if paused else "unpaused",
                                 {"member": member, "reason": reason or None, "ok": ok},
                                 remote_of(request))
    if not ok:
        return await agent_page(request, session, error="pause_failed", form=form, status=502)
    return RedirectResponse("/agent", 303)


async def set_paused(ami: AmiSession, member: str, paused: bool, reason: str) -> bool:
    """Through the dialplan's balagh-agent-pause (PauseQueueMember), which the AMI user may
    reach with `originate`; done when Asterisk tells QueueMemberPause for the member."""
    key, wanted = member_key(member), "1" if paused else "0"
    told = ami.listen(lambda e: e.get("Event") == "QueueMemberPause" and
                      member_key(e.get("Interface", "")) == key and
                      str(e.get("Paused")) == wanted)
    try:
        answer = await ami.originate({
            "Channel": f"Local/{'pause' if paused else 'unpause'}@{PAUSE_CONTEXT}/n",
            "Context": PAUSE_CONTEXT, "Exten": "done", "Priority": "1", "Timeout": "5000",
            "Variable": f"BALAGH_PAUSE_MEMBER={member},BALAGH_PAUSE_REASON={reason}"},
            timeout=AMI_SECONDS)
        if answer.get("Response") == "Error":  # refused outright (no such context, rights)
            log.warning("console.pause_refused", member=member, answer=answer)
            return False
        await within(told.get(), AMI_SECONDS)
        return True
    except Exception as exc:  # AMI down, a refusal, no event in time
        log.warning("console.pause_failed", member=member,
                    error=f"{type(exc).__name__}: {exc}")
        return False
    finally:
        ami.unlisten(told)


__all__ = ["agent_home", "agent_page", "agent_state", "follow", "pause", "save_disposition",
           "set_paused", "unpause"]
