"""`balagh run`: load and check the configuration, open the store, serve calls."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

import structlog

from balagh.ami.agent_events import AgentEvents
from balagh.ami.client import AmiSession
from balagh.ami.outcomes import QueueOutcomes
from balagh.ami.queues import QueueMonitor
from balagh.ari.app import AriApplication
from balagh.ari.call import AriCall
from balagh.ari.router import Entry, StasisRouter
from balagh.ari.tell import telling_entry
from balagh.config import Settings, secret_values
from balagh.fastagi.ping import PING_SCRIPT, answer_ping
from balagh.fastagi.route import ROUTE_SCRIPT, RouteService
from balagh.fastagi.server import FastAgiServer, run_server
from balagh.fdlimit import fastagi_session_cap, raise_soft_limit
from balagh.handover.callers import caller_hash_key
from balagh.handover.outbox import Outbox
from balagh.handover.summary import HandoverSettings
from balagh.hotline import Hotline, HotlineFiles, LiveHotline
from balagh.inbound import InboundServer, serve_inbound
from balagh.ivr.entry import CallerLine, CallerSetup
from balagh.ivr.flow import RoutingContext
from balagh.ivr.record import CallStore
from balagh.looplag import LoopLag
from balagh.metrics.app_metrics import AppMetrics, menu_count
from balagh.oneapp import refuse_if_served
from balagh.orphans import take_back
from balagh.pidfile import PidFile
from balagh.reachback.callbacks_wiring import calling_back
from balagh.reachback.followup_api import PATH as FOLLOWUP_PATH
from balagh.reachback.followup_api import FollowupApi
from balagh.reachback.live import LiveReachback
from balagh.reachback.survey_wiring import surveying
from balagh.reachback.wiring import text_on_resolved, texting
from balagh.routing import QueueState
from balagh.sounds.files import prompt_seconds
from balagh.store.opening import open_store
from balagh.store.permissions import data_files, loose_files, private_umask
from balagh.store.reports import ReportStore
from balagh.supervise.entry import supervision_entries
from balagh.supervise.node import app_node
from balagh.supervise.session import Supervision

log = structlog.get_logger(__name__)

QueueSnapshot = Callable[[], Mapping[str, QueueState]]


def banner(settings: Settings) -> str:
    return (
        "\nBalagh is answering the hotline "
        f"{settings.hotline} (ARI app '{settings.ari.app}' at {settings.ari.url}).\n"
        "Place a test call from another terminal, answering on the keypad:\n"
        f"    .venv/bin/balagh call {settings.hotline} --digits 1,1,1,2,3,0\n"
        "or register a softphone: user 'softphone' at 127.0.0.1:5060 (UDP), password\n"
        f"BALAGH_SIP_PASSWORD in {settings.sandbox_secrets}, and dial {settings.hotline}.\n"
        f"Reports: .venv/bin/balagh reports   (database {settings.database})\n"
        "Stop with Ctrl-C.\n"
    )


def fastagi_banner(settings: Settings) -> str:
    return (
        f"\nBalagh is routing the hotline {settings.hotline} for the dialplan: FastAGI at "
        f"agi://{settings.fastagi.host}:{settings.fastagi.port}/{ROUTE_SCRIPT} "
        "(ari.enabled is false: no ARI app).\n"
        f"Reports: balagh reports   (database {settings.database}); check: balagh health\n"
        "Stop with Ctrl-C.\n"
    )


def reload_trigger(settings: Settings) -> str:
    """Who asked for a SIGHUP reload: `balagh routes reload` leaves a note, a bare kill none."""
    request = settings.reload_request
    try:
        note = request.read_text(encoding="utf-8").strip()
        request.unlink()
    except OSError:
        return "sighup"
    return f"sighup: {note}" if note else "sighup"


class Reloadable(Protocol):
    async def reload(self, trigger: str) -> str: ...


class SighupReloads:
    """SIGHUP's handler: every live configuration (the hotline, reachback.yaml) loaded
    again, each on a task of its own: a bad file keeps only its own previous copy."""

    def __init__(self, settings: Settings, parts: Sequence[Reloadable]) -> None:
        self.settings = settings
        self.parts = parts
        self.tasks: set[asyncio.Task[str]] = set()

    def __call__(self) -> None:
        trigger = reload_trigger(self.settings)  # read once: the note is removed
        for part in self.parts:
            task = asyncio.create_task(part.reload(trigger))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


async def serve_fastagi(settings: Settings, route: RouteService) -> None:
    """The FastAGI route service; a port it cannot have is logged, not fatal: the ARI
    hotline goes on, and the dialplan's AGI() falls back to the general queue. (On a
    FastAGI-only site `serve` stops the app when this returns: it was all it served.)"""
    server = FastAgiServer(max_sessions=fastagi_session_cap())
    server.add_route(ROUTE_SCRIPT, route.handle)
    server.add_route(PING_SCRIPT, answer_ping)  # `balagh health`'s round trip
    try:
        await run_server(server, settings.fastagi.host, settings.fastagi.port)
    except OSError as exc:
        log.error("fastagi.listen_failed", host=settings.fastagi.host,
                  port=settings.fastagi.port, error=str(exc))
    except Exception:  # the ARI hotline must not go down with it
        log.exception("fastagi.failed")


async def serve_metrics(settings: Settings, metrics: AppMetrics) -> None:
    """/metrics on `metrics_listen`; a port it cannot have is logged, not fatal."""
    try:
        await metrics.serve(settings.metrics_listen)
    except OSError as exc:
        log.error("metrics.listen_failed", listen=settings.metrics_listen, error=str(exc))
    except Exception:  # the hotline must not go down with its figures
        log.exception("metrics.failed")


def check_permissions(settings: Settings) -> None:
    """Warn, loudly, about a data folder or database files someone opened up."""
    files = data_files(settings.database, settings.spool_file)
    for path, mode in loose_files(settings.data_dir, files):
        wanted = "700" if path.is_dir() else "600"
        log.warning("store.permissions_loose", path=str(path), mode=mode,
                    hint=f"callers' numbers and answers are in it: chmod {wanted} {path}")


async def run_app(settings: Settings, *, banner_text: bool = False) -> int:
    """Serve the hotline until SIGINT/SIGTERM. A second app for the same ARI application
    raises PidFileHeld or AppAlreadyServing before it opens anything (oneapp.py)."""
    private_umask()  # the database, WAL, shm, spool and pid file: this user's alone
    pid_file = PidFile.acquire(settings.pid_file)
    try:
        if settings.ari.enabled:  # a FastAGI-only site has no ARI to ask
            await refuse_if_served(settings.ari)  # a refused app says one line, nothing else
        fds = raise_soft_limit()
        log.info("app.fd_limit", soft=fds, fastagi_sessions=fastagi_session_cap(fds))
        return await serve(settings, banner_text=banner_text)
    finally:
        pid_file.release()


def caller_setup(live: LiveHotline, handover: HandoverSettings,
                 queues: QueueSnapshot) -> Callable[[], CallerSetup]:
    """What a new call is served by: the hotline of the moment, built once per reload."""
    built: list[tuple[Hotline, CallerSetup]] = []

    def current() -> CallerSetup:
        hotline = live.current
        if not built or built[0][0] is not hotline:
            built[:] = [(hotline, CallerSetup(
                hotline.menu, hotline.table,
                replace(handover, agents=hotline.handover.agents),
                RoutingContext(queues=queues, prefixes=hotline.prefixes or {})))]
        return built[0][1]

    return current


def ari_application(settings: Settings, live: LiveHotline, store: ReportStore,
                    ami: AmiSession, callers: CallerLine,
                    entries: Sequence[Entry] = ()) -> AriApplication:
    """The ARI app and its Stasis router, each feature's entry registered: telling,
    supervision and its snoops, and `entries` (the satisfaction call's); every other
    channel is a caller (the router's default)."""
    async def on_orphan(call: AriCall) -> None:
        await take_back(call, callers.resume)

    router = StasisRouter(default=callers.answer)
    application = AriApplication(settings.ari, router, orphan_handler=on_orphan,
                                 prompt_seconds=prompt_seconds(settings.sounds_dir).get)
    supervision = Supervision(table=lambda: live.current.supervisors, trail=store.audit,
                              reports=store.queries, ami=ami, rest=application.rest,
                              app=settings.ari.app, node=app_node(settings))
    for entry in (telling_entry(application.rest),
                  *supervision_entries(supervision, refresh=live.refresh), *entries):
        router.register(entry)
    return application


async def serve(settings: Settings, *, banner_text: bool) -> int:
    # Over 60 lines: the process's tasks are started and stopped here, in one place, in
    # the order the shutdown needs (outbox before the store, calls drained before ARI).
    if not settings.ari.enabled:
        log.info("app.fastagi_only", host=settings.fastagi.host, port=settings.fastagi.port)
    elif not settings.ari.password:
        log.warning("ari.no_password", hint="set BALAGH_ARI_PASSWORD or run `balagh pbx start`")
    store = await open_store(settings)
    check_permissions(settings)
    try:
        live = LiveHotline(HotlineFiles.of(settings), secret_values(settings), store.calls)
        reachback = LiveReachback(settings.reachback_file, secret_values(settings),
                                  settings.sounds_dir)
    except Exception:
        await store.close()
        raise
    ami = AmiSession(settings.ami)  # the process's one AMI login, shared by its consumers
    queues = QueueMonitor(ami)
    outbox = Outbox(store.outbox, lambda: live.current.handover)
    inbound = InboundServer(settings.inbound)  # features add their routes before it starts
    publisher, texts = texting(settings, store.sms, outbox, inbound, reachback.sms)
    publisher, dialler = calling_back(
        settings, store.callbacks, store.queries, publisher, ami, queues.snapshot,
        lambda: live.current.handover.agents, inbound, reachback.callbacks)
    survey = surveying(settings, store, ami, queues.snapshot, reachback.survey, inbound)
    handover = HandoverSettings(caller_key=caller_hash_key(settings.data_dir),
                                agent_language=settings.agent_language, outbox=publisher)
    setup = caller_setup(live, handover, queues.snapshot)
    calls = CallStore(store.calls, store.queries)
    callers = CallerLine(setup, calls)

    # ari.enabled false: a FastAGI-only site; nothing connects to ARI, ever.
    application = ari_application(settings, live, store, ami, callers, survey.entries) \
        if settings.ari.enabled else None
    runner = asyncio.create_task(application.run()) if application is not None else None
    watcher = asyncio.create_task(live.watch())
    ami_link = asyncio.create_task(ami.run())
    monitor = asyncio.create_task(queues.run())
    outcomes = asyncio.create_task(QueueOutcomes(ami, store.calls, store.queries,
                                                 outbox=publisher).run())
    agents = asyncio.create_task(AgentEvents(ami, store.agents,
                                                settings.wrapup_seconds).run())
    delivery = asyncio.create_task(outbox.run())
    loop_lag = LoopLag()
    lag = asyncio.create_task(loop_lag.run())
    metrics = asyncio.create_task(serve_metrics(settings, AppMetrics(
        ami, store.queries, settings.spool_file, queues=lambda: live.current.queues,
        callers_in_menu=menu_count(application), max_loop_stall=lambda: loop_lag.max_stall,
        heartbeat_age=application.heartbeat_age if application else lambda: None))) \
        if settings.metrics_listen else None
    texting_task = asyncio.create_task(texts.run()) if texts is not None else None
    calling_task = asyncio.create_task(dialler.run()) if dialler is not None else None
    surveying_task = asyncio.create_task(survey.dialler.run()) \
        if survey.dialler is not None else None
    route = RouteService(setup, calls)  # the hotline of the moment, as the ARI path
    fastagi = asyncio.create_task(serve_fastagi(settings, route)) \
        if settings.fastagi.enabled else None
    followup = FollowupApi(store.followups, store.queries, lambda: live.current.handover)
    inbound.add_route("POST", FOLLOWUP_PATH, followup.handle)
    if texts is not None:
        followup.on_resolved.append(text_on_resolved(texts))
    if survey.on_resolved is not None:
        followup.on_resolved.append(survey.on_resolved)
    listener = asyncio.create_task(serve_inbound(inbound)) \
        if settings.inbound.enabled else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    failed = False
    if application is None and fastagi is not None:
        def on_fastagi_end(_: asyncio.Task[None]) -> None:
            nonlocal failed
            failed = not stop.is_set()  # it ended by itself: it could not listen
            stop.set()

        fastagi.add_done_callback(on_fastagi_end)

    loop.add_signal_handler(signal.SIGHUP, SighupReloads(settings, (live, reachback)))
    try:
        if application is not None:
            await _until_connected(application, stop)
            if banner_text and application.connected.is_set():
                print(banner(settings), flush=True)
        elif banner_text:
            print(fastagi_banner(settings), flush=True)
        await stop.wait()
        log.info("app.stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        watcher.cancel()
        monitor.cancel()
        outcomes.cancel()
        agents.cancel()
        delivery.cancel()  # before the store closes: rows left pending go out after a restart
        if texting_task is not None:
            texting_task.cancel()  # likewise: a text left pending goes after a restart
        if calling_task is not None:
            calling_task.cancel()  # an attempt cut short counts as spent (store/callbacks.py)
        if surveying_task is not None:
            surveying_task.cancel()  # likewise
        lag.cancel()
        for side in (listener, metrics):
            if side is not None:
                side.cancel()
        if fastagi is not None:
            fastagi.cancel()  # its sessions too: their reports close in `finally`
        ami_link.cancel()
        # Calls still in the menu after a short grace are sent on to the dialplan
        # (their handlers' cancellation path), then the websocket closes.
        if application is not None and runner is not None:
            await application.drain(timeout=5)
            await application.cancel_calls()
            runner.cancel()
        await asyncio.gather(watcher, monitor, outcomes, agents, delivery, ami_link, lag,
                             *(task for task in (runner, fastagi, listener, metrics, texting_task,
                                                 calling_task)
                               if task is not None),
                             return_exceptions=True)
        await store.close()
    return 1 if failed else 0


async def _until_connected(application: AriApplication, stop: asyncio.Event) -> None:
    waiters = [asyncio.create_task(application.connected.wait()),
               asyncio.create_task(stop.wait())]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
