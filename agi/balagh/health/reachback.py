"""`balagh health`'s lines for reaching callers back (config/reachback.yaml), one per part
that is on: `texts` (Kannel answers; the texts flow), `callbacks` and `survey` (the calls
open, those failed in the last day). A part that is off has no line, so a site that uses
none prints what it always did; a file that does not load is one `reachback` line.

None of them is ever DOWN: no caller's call waits on them. They warn when a person is
needed: Kannel away, a text waiting too long, any text or callback failed (a caller in
danger not reached back). A failed satisfaction call is counted, not a warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from balagh.config import Settings, secret_values
from balagh.config.yamlsrc import ConfigError
from balagh.health.report import Check, Status
from balagh.reachback.reachback_config import ReachbackConfig, load_reachback_config
from balagh.reachback.sms_config import SmsConfig
from balagh.readmodel.reachback_counts import (
    CALL_TABLES,
    ReachbackUnreadable,
    TextCounts,
    call_counts,
    text_counts,
)
from balagh.store.opening import ReportDatabase, report_database
from balagh.store.timestamps import iso
from balagh.timeouts import within

__all__ = ["FILE_LINE", "KANNEL_SECONDS", "LOAD_SECONDS", "PARTS", "STALE_TEXT", "WINDOW",
           "calls_check", "kannel_answer", "reachback_probes", "shown_url", "texts_check"]

PARTS = ("texts", "callbacks", "survey")  # the lines, in the order printed
FILE_LINE = "reachback"                   # the line of a reachback.yaml that does not load
KANNEL_SECONDS = 2.0
LOAD_SECONDS = 5.0  # reading reachback.yaml (and the prompts' catalogue for the survey)
STALE_TEXT = timedelta(minutes=10)  # a text waiting longer than this: a warning
WINDOW = timedelta(hours=24)        # "failed" counts what failed within this

Probe = Callable[[], Awaitable[Check]]


async def reachback_probes(settings: Settings, chosen: Collection[str] = PARTS,
                           now: Callable[[], datetime] = lambda: datetime.now(UTC),
                           timeout: float = LOAD_SECONDS) -> dict[str, Probe]:
    """The probes of the `chosen` parts that reachback.yaml turns on; none when all are
    off; a single FILE_LINE probe saying why when the file does not load (in `timeout`)."""
    try:
        config = await within(asyncio.to_thread(
            load_reachback_config, settings.reachback_file, secret_values(settings),
            settings.sounds_dir), timeout)
    except TimeoutError:
        return _file_line(settings, f"{settings.reachback_file}: not loaded within "
                                    f"{timeout:g} s")
    except Exception as exc:  # ConfigError names file:line: key; anything else, itself
        return _file_line(settings, str(exc) if isinstance(exc, ConfigError) else
                          f"{settings.reachback_file}: {exc or type(exc).__name__}")
    on = _parts_on(config)
    probes: dict[str, Probe] = {}
    if "texts" in chosen and on["texts"]:
        probes["texts"] = lambda: texts_check(report_database(settings), config.sms, now())
    for part in ("callbacks", "survey"):
        if part in chosen and on[part]:
            probes[part] = _calls_probe(settings, part, now)
    return probes


def _calls_probe(settings: Settings, part: str, now: Callable[[], datetime]) -> Probe:
    return lambda: asyncio.to_thread(calls_check, report_database(settings), part, now())


def _parts_on(config: ReachbackConfig) -> dict[str, bool]:
    return {"texts": config.sms.enabled, "callbacks": config.callbacks.enabled,
            "survey": config.survey.enabled}


def _file_line(settings: Settings, text: str) -> dict[str, Probe]:
    check = Check(FILE_LINE, Status.DEGRADED, text, {"file": str(settings.reachback_file)})
    return {FILE_LINE: lambda: _said(check)}


async def _said(check: Check) -> Check:
    return check


# ----------------------------------------------------------------------- texts


def shown_url(url: str) -> str:
    """The URL without anything secret in it: no user:password@, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def kannel_answer(url: str, timeout: float = KANNEL_SECONDS) -> tuple[int | None, str]:
    """Kannel's sendsms at `url` answers? (HTTP status, what was found). Any HTTP answer,
    even a refusal, means it is there; no credentials are sent, so nothing is texted and
    no password travels. None: no answer, and why."""
    where = shown_url(url)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) \
                as session, session.get(url, allow_redirects=False) as response:
            return response.status, f"Kannel at {where} answers (HTTP {response.status})"
    except TimeoutError:
        return None, f"Kannel at {where}: no answer within {timeout:g} s"
    except aiohttp.ClientError as exc:
        # Its text may quote the URL given, and with it a password in the URL: never shown.
        why = str(exc).replace(url, where) or type(exc).__name__
        return None, f"Kannel at {where} cannot be reached: {why}"


async def texts_check(database: ReportDatabase, sms: SmsConfig, now: datetime) -> Check:
    """Kannel answers, and the store's texts flow: waiting ones (warn when the oldest has
    waited longer than STALE_TEXT), failed ones in the last WINDOW (warn when any)."""
    (status, kannel), counts = await asyncio.gather(
        kannel_answer(sms.kannel_url),
        asyncio.to_thread(_text_counts, database, now))
    warn = status is None
    parts = [kannel]
    data: dict[str, Any] = {"kannel_url": shown_url(sms.kannel_url),
                            "kannel_status": status}
    if isinstance(counts, str):
        parts.append(f"texts not counted: {counts}")
        warn = True
    else:
        waited = None if counts.oldest_pending is None else now - _parse(counts.oldest_pending)
        data.update(pending=counts.pending, retrying=counts.retrying,
                    oldest_pending=counts.oldest_pending,
                    oldest_pending_seconds=None if waited is None else int(waited.total_seconds()),
                    failed_24h=counts.failed)
        waiting = f"{counts.pending} waiting"
        if counts.retrying:
            waiting += f" ({counts.retrying} retrying)"
        if waited is not None:
            waiting += f", the oldest for {_duration(waited)}"
            if waited > STALE_TEXT:
                waiting += f" (over {_duration(STALE_TEXT)})"
                warn = True
        parts.append(waiting)
        parts.append(f"{counts.failed} failed in the last 24 h")
        warn = warn or counts.failed > 0
    return Check("texts", Status.DEGRADED if warn else Status.OK, "; ".join(parts), data)


def _text_counts(database: ReportDatabase, now: datetime) -> TextCounts | str:
    try:
        return text_counts(database, iso(now - WINDOW))
    except ReachbackUnreadable as exc:
        return str(exc)


# ----------------------------------------------------------------------- calls


def calls_check(database: ReportDatabase, part: str, now: datetime) -> Check:
    """`callbacks` or `survey`: the calls open, and those that ended unreached in the last
    WINDOW. A failed callback is a warning (a caller in danger was not reached back)."""
    try:
        counts = call_counts(database, CALL_TABLES[part], iso(now - WINDOW))
    except ReachbackUnreadable as exc:
        return Check(part, Status.DEGRADED, f"not counted: {exc}")
    text = f"{counts.open} open, {counts.failed} failed in the last 24 h"
    if counts.failed:
        text += " (every attempt unanswered, or not dialled)"
    warn = part == "callbacks" and counts.failed > 0
    if warn:
        text += ": callers in danger not reached back (each report's timeline says why)"
    return Check(part, Status.DEGRADED if warn else Status.OK, text,
                 {"open": counts.open, "failed_24h": counts.failed})


def _parse(stored: str) -> datetime:
    moment = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
