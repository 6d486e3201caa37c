"""`balagh watchdog` put together: its own ARI connection, the report store, the hotline.

It connects to ARI as its own Stasis app (`<app>-watchdog`, so it never receives the
hotline's calls) and routes a silent app's callers exactly as the app would route a
caller it takes back after a restart (ivr.flow.resume_call): by the stored answers,
with the same whisper, report and handover events (queued in the outbox, which the app
delivers once it is back). If the routing table cannot be read, the caller still goes
on to the dialplan, which sends them to the general line.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace

import structlog

from balagh.ari.app import AriApplication
from balagh.ari.call import AriCall
from balagh.ari.router import StasisRouter
from balagh.ari.stray import StrayCall, turn_away
from balagh.config import Settings, secret_values
from balagh.handover.callers import caller_hash_key
from balagh.handover.outbox import Outbox
from balagh.handover.summary import HandoverSettings
from balagh.hotline import Hotline, HotlineFiles, load_hotline
from balagh.ivr.entry import CallerLine, CallerSetup
from balagh.ivr.flow import RoutingContext
from balagh.ivr.record import CallStore
from balagh.orphans import take_back
from balagh.store.opening import open_store
from balagh.store.outbox import OutboxRows

from .monitor import DEFAULT_GRACE_SECONDS, DEFAULT_INTERVAL_SECONDS, Watchdog

log = structlog.get_logger(__name__)

REASON = "moved by the watchdog: the app was not answering"


def watchdog_app(app: str) -> str:
    return f"{app}-watchdog"


async def not_ours(call: StrayCall) -> None:
    """The watchdog's app serves no entry: nothing should ever be sent to it, and what is
    may be a caller, so it goes on in the dialplan."""
    log.warning("watchdog.unexpected_channel", channel=call.info.call_id)
    await turn_away(call, to_dialplan=True)


async def run_watchdog(settings: Settings, *, grace: float = DEFAULT_GRACE_SECONDS,
                       interval: float = DEFAULT_INTERVAL_SECONDS) -> int:
    store = await open_store(settings, spool=False)

    files = HotlineFiles.of(settings)

    async def route_caller(call: AriCall) -> None:
        # Read at the moment of need: the files may have changed since the watchdog started.
        try:
            hotline = await asyncio.to_thread(load_hotline, files, secret_values(settings),
                                              lenient_supervisors=True)
        except Exception as exc:
            log.error("watchdog.config_unreadable", error=str(exc))
            await call.continue_in_dialplan()  # no decision: the dialplan's general line
            return
        callers = CallerLine(lambda: _setup(settings, store.outbox, hotline),
                             CallStore(store.calls, store.queries))
        await callers.resume(call, REASON)

    # The watchdog's own app serves no entry: the callers it moves come from the app's
    # channels (monitor.py), each resumed by the caller IVR's entry (CallerLine.resume).
    link = AriApplication(replace(settings.ari, app=watchdog_app(settings.ari.app)),
                          StasisRouter(default=not_ours))
    watchdog = Watchdog(link.rest, settings.ari.app,
                        lambda call: take_back(call, route_caller),
                        grace=grace, interval=interval)
    connection = asyncio.create_task(link.run())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    checks: asyncio.Task[None] | None = None
    try:
        # Until ARI answers there is nothing to watch; a stop meanwhile ends it at once.
        waiters = [asyncio.create_task(link.connected.wait()), asyncio.create_task(stop.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        if not stop.is_set():
            checks = asyncio.create_task(watchdog.run())
            await stop.wait()
    finally:
        if checks is not None:
            checks.cancel()
            await asyncio.gather(checks, return_exceptions=True)
        connection.cancel()
        await asyncio.gather(connection, return_exceptions=True)
        await store.close()
        log.info("watchdog.stopped", moved=watchdog.moved)
    return 0


def _setup(settings: Settings, outbox: OutboxRows, hotline: Hotline) -> CallerSetup:
    # The outbox only queues here; the app's delivery worker sends the events.
    handover = HandoverSettings(caller_key=caller_hash_key(settings.data_dir),
                                agent_language=settings.agent_language,
                                outbox=Outbox(outbox, lambda: hotline.handover),
                                agents=hotline.handover.agents)
    return CallerSetup(hotline.menu, hotline.table, handover,
                       RoutingContext(prefixes=hotline.prefixes or {}))
