"""The probes behind `balagh health`: each returns one Check and never raises.

Every probe has its own timeout (guarded); they run side by side, so the whole check
takes about as long as the slowest, a few seconds at most. ARI is read over plain HTTP
(ari_http.py) and AMI with a login of its own, each closed again at once.

With several Asterisk nodes (`nodes:` in balagh.yaml) the ARI, AMI, app and watchdog
lines are one per node, named `ari@node1`, `ami@node1`, ...: a dead node's lines say so
and the others stay as they are. Its ARI and app lines are DOWN, so the verdict is DOWN
(exit 2) while any node is: a box lost needs a person now, even while Kamailio sends
the calls to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from balagh.ami.client import AmiSession
from balagh.ari.liveness import heartbeat_variable
from balagh.config import AmiSettings, Node, Settings, nodes_of
from balagh.health import prompts, reachback
from balagh.health.ari_http import AriHttp
from balagh.health.fastagi import fastagi_check
from balagh.health.files import config_check
from balagh.health.heartbeat import WINDOW_SECONDS, watch
from balagh.health.report import Check, Status
from balagh.health.store import last_table_load, store_state
from balagh.hotline import HotlineFiles, load_routing
from balagh.ivr.menu import load_menu
from balagh.routing.load import load_table
from balagh.store.opening import report_database
from balagh.timeouts import within
from balagh.watchdog.service import watchdog_app

# The lines, in the order printed. The reaching-back ones (reachback.py) only when
# reachback.yaml turns their part on; a file that does not load is one `reachback` line.
NAMES = ("ari", "ami", "app", "watchdog", "store", "config", "menu", "routing", "prompts",
         *reachback.PARTS)

AMI_LOGIN_SECONDS = 3.0
# A probe's own bound: its requests' timeouts (3 s each) plus a margin, so a probe's own
# error message (which says more) normally wins over "no answer within".
PROBE_SECONDS = {"ari": 5.0, "ami": AMI_LOGIN_SECONDS + 2.0, "app": WINDOW_SECONDS + 7.0,
                 "watchdog": WINDOW_SECONDS + 7.0, "store": 10.0, "config": 5.0, "menu": 10.0,
                 "routing": 10.0, "prompts": 10.0,
                 # Kannel's 2 s beside the counts' lock wait (2 s), plus a margin
                 "texts": 5.0, "callbacks": 5.0, "survey": 5.0, reachback.FILE_LINE: 1.0}
# The lines checked once per node; the rest are the site's own (files, store, prompts).
NODE_PROBES = ("ari", "ami", "app", "watchdog")
# What a failed probe means: only what stops callers being served is DOWN.
FAILED = {"ari": Status.DOWN, "ami": Status.DEGRADED, "app": Status.DOWN,
          "watchdog": Status.DEGRADED, "store": Status.DEGRADED, "config": Status.DEGRADED,
          "menu": Status.DEGRADED, "routing": Status.DEGRADED,
          "prompts": Status.DEGRADED, "texts": Status.DEGRADED, "callbacks": Status.DEGRADED,
          "survey": Status.DEGRADED, reachback.FILE_LINE: Status.DEGRADED}


async def guarded(name: str, probe: Awaitable[Check], timeout: float) -> Check:
    """The probe's Check, or one saying why it failed (it timed out, or raised). `name`:
    the probe's, or `probe@node` for one node's line."""
    failed = FAILED[name.partition("@")[0]]
    try:
        check = await within(probe, timeout)
    except TimeoutError:
        return Check(name, failed, f"no answer within {timeout:g} s")
    except Exception as exc:
        return Check(name, failed, str(exc) or type(exc).__name__)
    return check if check.name == name else replace(check, name=name)


def line_name(probe: str, node: Node) -> str:
    """A node's line: `ari@node1`; on a one-box site (no `nodes:`) just `ari`."""
    return f"{probe}@{node.name}" if node.name else probe


async def ari_check(ari: AriHttp, settings: Settings) -> Check:
    info = await ari.get("asterisk/info")
    if not isinstance(info, dict):
        return Check("ari", Status.DOWN, f"no ARI at {ari.base} (404)")
    version = str((info.get("system") or {}).get("version", "?"))
    if missing := await ari.missing_operations():
        return Check("ari", Status.DOWN,
                     f"Asterisk {version} at {settings.ari.url} does not offer what Balagh "
                     f"sends: {'; '.join(missing)}",
                     {"url": settings.ari.url, "asterisk_version": version,
                      "missing": missing})
    return Check("ari", Status.OK,
                 f"Asterisk {version} at {settings.ari.url} as {settings.ari.username}",
                 {"url": settings.ari.url, "asterisk_version": version})


async def ami_check(settings: AmiSettings) -> Check:
    session = AmiSession(settings)
    try:
        await session.connect(timeout=AMI_LOGIN_SECONDS)  # raises AmiError saying why
    finally:
        session.close()
    return Check("ami", Status.OK,
                 f"logged in to {settings.host}:{settings.port} as {settings.username}",
                 {"host": settings.host, "port": settings.port})


async def heartbeat_check(name: str, ari: AriHttp, app: str, *, silent: Status,
                          held: bool, window: float = WINDOW_SECONDS) -> Check:
    """Is `app` beating (its heartbeat variable changing)? With `held`, also how many
    channels Asterisk holds in it: the calls in progress, or callers left in a dead app."""
    variable = heartbeat_variable(app)
    beat = await watch(lambda: ari.variable(variable), window=window)
    channels = await ari.channel_ids(app) if held else None
    data: dict[str, Any] = {"app": app, "variable": variable, "beating": beat.beating,
                            "watched_seconds": beat.seconds}
    if held:
        data["channels"] = len(channels or [])  # None: Asterisk does not know the app
    if beat.beating:
        calls = f"; {data['channels']} call(s) in progress" if held else ""
        return Check(name, Status.OK, f"{app} beating{calls}", data)
    if beat.never_set:
        text = f"{app} not running (no heartbeat since Asterisk started)"
    else:
        text = f"{app} not beating: heartbeat unchanged for {beat.seconds:g} s"
    if held and data["channels"]:
        text += f"; {data['channels']} caller(s) held in it, for the watchdog to move"
    return Check(name, silent, text, data)


def store_check(settings: Settings) -> Check:
    state = store_state(report_database(settings), settings.spool_file)
    parts = [state["database"]]
    if not state["reachable"]:  # a server that does not answer: the error names it
        return Check("store", Status.DOWN, state["error"], state)
    if not state["exists"]:
        parts.append("MISSING")
    elif state["writable"]:
        parts.append(f"writable (schema {state['schema_version']})")
    else:
        parts.append(f"NOT writable: {state['error']}")
    waiting = state["spool_depth"]
    parts.append(f"{waiting} write(s) waiting in the spool" if waiting else "spool empty")
    if state["outbox"] is not None:
        parts.append(f"outbox {state['outbox']['pending']} pending, "
                     f"{state['outbox']['failed']} failed")
    return Check("store", Status.OK if state["healthy"] else Status.DEGRADED,
                 ", ".join(parts), state)


def menu_check(settings: Settings) -> Check:
    menu = load_menu(settings.ivr_file)
    return Check("menu", Status.OK,
                 f"{len(menu.questions)} questions, languages {', '.join(menu.languages)} "
                 f"({settings.ivr_file})",
                 {"file": str(settings.ivr_file), "questions": len(menu.questions)})


def routing_check(settings: Settings) -> Check:
    try:
        table = load_routing(HotlineFiles.of(settings)).table  # as the app loads it
    except Exception:
        if _menu_loads(settings):
            raise  # the table's (or the prefixes') own error
        # The menu line says why; the table is still checked on its own.
        table = load_table(settings.routing_file, None)
    last = last_table_load(report_database(settings))
    text = f"{len(table.rules)} rules, {len(table.queues)} queues ({settings.routing_file})"
    if last is not None:
        text += f"; the app's last load: {last['outcome']} at {last['at']} ({last['trigger']})"
    return Check("routing", Status.OK, text,
                 {"file": str(settings.routing_file), "rules": len(table.rules),
                  "queues": len(table.queues), "warnings": len(table.warnings),
                  "last_load": last})


def _menu_loads(settings: Settings) -> bool:
    try:
        load_menu(settings.ivr_file)
    except Exception:
        return False
    return True


async def _said(check: Check) -> Check:
    return check


def fastagi_only_probes(settings: Settings) -> dict[str, Callable[[], Awaitable[Check]]]:
    """A site without ARI (ari.enabled false): the app is its FastAGI listener, and no
    caller ever waits in an ARI app, so there is nothing for a watchdog to do."""
    return {
        "ari": lambda: _said(Check("ari", Status.OK, "disabled: a FastAGI-only site "
                                   "(ari.enabled false)", {"enabled": False})),
        "app": lambda: fastagi_check(settings.fastagi),
        "watchdog": lambda: _said(Check("watchdog", Status.OK, "not needed: no caller waits "
                                        "in an ARI app on a FastAGI-only site",
                                        {"needed": False})),
    }


async def run_probes(settings: Settings, only: Collection[str] = NAMES, *,
                     pbx_sounds: Path | None = None) -> list[Check]:
    """The chosen checks, run side by side, in NAMES order; `pbx_sounds`: Asterisk's
    sounds folder, when its asterisk.conf does not say (prompts.py)."""
    chosen = [name for name in NAMES if name in only]
    async with contextlib.AsyncExitStack() as stack:
        on_nodes = [(node, node_probes(replace(settings, ari=node.ari, ami=node.ami),
                                       await stack.enter_async_context(AriHttp(node.ari))))
                    for node in nodes_of(settings)]
        site = site_probes(settings, pbx_sounds)
        # A node's lines together (NODE_PROBES lead NAMES: one box's order is unchanged).
        lines = [guarded(line_name(name, node), probes[name](), PROBE_SECONDS[name])
                 for node, probes in on_nodes for name in chosen if name in NODE_PROBES]
        lines += [guarded(name, site[name](), PROBE_SECONDS[name])
                  for name in chosen if name not in NODE_PROBES and name in site]
        parts = [name for name in chosen if name in reachback.PARTS]
        fixed, reaching_back = await asyncio.gather(asyncio.gather(*lines),
                                                    _reachback_lines(settings, parts))
        return [*fixed, *reaching_back]


async def _reachback_lines(settings: Settings, parts: Collection[str]) -> list[Check]:
    """The lines of the reaching-back parts that are on (none when off or not chosen)."""
    if not parts:
        return []
    probes = await reachback.reachback_probes(settings, parts)
    return list(await asyncio.gather(*(guarded(name, probe(), PROBE_SECONDS[name])
                                       for name, probe in probes.items())))


def node_probes(settings: Settings, ari: AriHttp) -> dict[str, Callable[[], Awaitable[Check]]]:
    """One node's probes; `settings` carry that node's ARI and AMI."""
    app = settings.ari.app
    probes: dict[str, Callable[[], Awaitable[Check]]] = {
        "ari": lambda: ari_check(ari, settings),
        "ami": lambda: ami_check(settings.ami),
        "app": lambda: heartbeat_check("app", ari, app, silent=Status.DOWN, held=True),
        "watchdog": lambda: heartbeat_check("watchdog", ari, watchdog_app(app),
                                            silent=Status.DEGRADED, held=False),
    }
    if not settings.ari.enabled:
        probes.update(fastagi_only_probes(settings))
    return probes


def site_probes(settings: Settings, pbx_sounds: Path | None,
                ) -> dict[str, Callable[[], Awaitable[Check]]]:
    """The probes checked once, whatever the nodes."""
    return {
        "store": lambda: asyncio.to_thread(store_check, settings),
        "config": lambda: asyncio.to_thread(config_check, settings),
        "menu": lambda: asyncio.to_thread(menu_check, settings),
        "routing": lambda: asyncio.to_thread(routing_check, settings),
        "prompts": lambda: asyncio.to_thread(
            lambda: prompts.prompts_check(settings, prompts.pbx_sounds(settings, pbx_sounds))),
    }
