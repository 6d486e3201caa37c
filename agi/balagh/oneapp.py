"""One `balagh run` per ARI application: a second one refuses to start.

Two apps on one Stasis application take its websocket from each other: heartbeats are
lost, callers are taken back mid-menu and routed by partial answers. So before it opens
anything, `balagh run` checks two signs of a live app and stops with one line if either
shows:
- its pid file is locked (pidfile.py): an app with the same data folder is running;
- the application's heartbeat (ari/liveness.py) is advancing: an app, from any folder or
  host, is serving it. Read over plain HTTP before the websocket is connected, so the
  check itself takes nothing from the live app.
After a SIGKILL both signs are stale (the kernel drops the lock, the heartbeat stops), so
a restart is never refused. Asterisk unreachable: nothing can be served anyway, the app
starts and keeps trying, as before.
"""

from __future__ import annotations

import structlog

from balagh.ari.liveness import heartbeat_variable
from balagh.config import AriSettings
from balagh.health.ari_http import AriError, AriHttp
from balagh.health.heartbeat import WINDOW_SECONDS, watch

log = structlog.get_logger(__name__)


class AppAlreadyServing(RuntimeError):
    """Another live app is serving this ARI application."""


async def refuse_if_served(settings: AriSettings, *, window: float = WINDOW_SECONDS) -> None:
    """Raise AppAlreadyServing when `settings.app`'s heartbeat changes within `window`."""
    variable = heartbeat_variable(settings.app)
    try:
        async with AriHttp(settings) as ari:
            beat = await watch(lambda: ari.variable(variable), window=window)
    except AriError as exc:
        log.warning("app.liveness_unread", app=settings.app, error=str(exc))
        return
    if beat.beating:
        raise AppAlreadyServing(
            f"ARI application '{settings.app}' is already served by a live balagh run "
            f"(its heartbeat {variable} changed within {beat.seconds:g} s); stop that app "
            "first, or give this one another application name")
    log.info("app.liveness_checked", app=settings.app, watched_seconds=beat.seconds)
