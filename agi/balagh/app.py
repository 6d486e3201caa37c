"""`balagh run`: load and check the configuration, open the store, serve calls."""

from __future__ import annotations

import asyncio
import signal

import structlog

from balagh.ari.app import AriApplication
from balagh.ari.call import AriCall
from balagh.config import Settings
from balagh.ivr.flow import handle_call
from balagh.ivr.menu import load_menu
from balagh.routing import load_table
from balagh.store.reports import ReportStore

log = structlog.get_logger(__name__)


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


async def run_app(settings: Settings, *, banner_text: bool = False,
                  ready: asyncio.Event | None = None) -> int:
    menu = load_menu(settings.ivr_file)
    table = load_table(settings.routing_file, menu.answer_values())
    if not settings.ari.password:
        log.warning("ari.no_password", hint="set BALAGH_ARI_PASSWORD or run `balagh pbx start`")
    store = await ReportStore.open(settings.database)

    async def on_call(call: AriCall) -> None:
        await handle_call(call, menu, table, store)

    application = AriApplication(settings.ari, on_call)
    runner = asyncio.create_task(application.run())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        waiters = [asyncio.create_task(application.connected.wait()),
                   asyncio.create_task(stop.wait())]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
        if application.connected.is_set():
            if banner_text:
                print(banner(settings), flush=True)
            if ready is not None:
                ready.set()
        await stop.wait()
        log.info("app.stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        # Calls still in the menu after a short grace are sent on to the dialplan
        # (their handlers' cancellation path), then the websocket closes.
        await application.drain(timeout=5)
        await application.cancel_calls()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await store.close()
    return 0
