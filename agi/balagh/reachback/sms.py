"""Texts to callers through Kannel: queued on the call path, sent by a worker that asks
`consent.may_contact` at the moment it sends.

`TextingPublisher` stands in the call path beside the units' outbox (handover's Publisher:
never waits, never raises): when a report is routed it queues one text (a row, through
the single writer; nothing of the number or words yet). `SmsSender.run` is the worker:
each due row is read with its report *then*: a report redacted, or consent withdrawn, since
the call is withheld and nothing leaves. Otherwise the wording for the caller's language
is filled with the reference and the line's number and handed to Kannel's sendsms
(GET, UTF-8, coding=2 for UCS-2, dlr-mask=31 and a dlr-url holding the row's own random
token). A refusal or an unreachable Kannel is tried again with a backoff (2 s doubling to
5 min, 10 attempts, then failed). Rows are independent: up to PARALLEL are in flight at
once, each bounded by TIMEOUT, so one slow send holds up nobody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import aiohttp
import structlog

from balagh.consent import may_contact
from balagh.handover.outbox import scrubbed
from balagh.handover.summary import Publisher
from balagh.store.sms import SmsRows, Text
from balagh.timeouts import within

from .sms_config import REGISTERED, SmsConfig, render

__all__ = ["SmsSender", "TextingPublisher", "dlr_path"]

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
DLR_PREFIX = "/sms/dlr/"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def dlr_path(token: str) -> str:
    return f"{DLR_PREFIX}{token}"


class SmsSender:
    FIRST_RETRY = 2.0
    MAX_RETRY = 300.0
    MAX_ATTEMPTS = 10
    POLL = 5.0
    TIMEOUT = 10.0
    PARALLEL = 8  # texts in flight to Kannel at once
    BATCH = 64    # rows read at one look
    ERROR_CHARS = 200

    def __init__(self, rows: SmsRows, config: Callable[[], SmsConfig], dlr_base: str,
                 clock: Clock = _utcnow) -> None:
        self.rows = rows
        self._config = config
        self._dlr_base = dlr_base.rstrip("/")
        self._clock = clock
        self._wake = asyncio.Event()

    # ------------------------------------------------------------ the call path

    def queue(self, reference: str, event: str, language: str | None) -> None:
        """One text for `event` of the report `reference`. Never waits, never raises."""
        try:
            if not self._config().enabled:
                return
            self.rows.queue_text(key=f"{reference}:{event}", reference=reference, event=event,
                                 language=language, token=secrets.token_urlsafe(24),
                                 at=self._clock())
            self._wake.set()
        except Exception as exc:
            with contextlib.suppress(Exception):
                log.error("sms.queue_failed", kind=event, error=repr(exc))

    # --------------------------------------------------------------- the worker

    async def run(self) -> None:
        with contextlib.suppress(Exception):  # the database down: the loop below says so
            await self.rows.recover()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.TIMEOUT),
                                         read_bufsize=16384) as client:
            while True:
                self._wake.clear()
                try:
                    await self.rows.flush()
                    delay = await self.send_due(client)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    with contextlib.suppress(Exception):
                        log.exception("sms.worker_failed", error=repr(exc))
                    delay = self.POLL
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await within(self._wake.wait(), delay)

    async def send_due(self, client: aiohttp.ClientSession) -> float:
        """Send every due row (PARALLEL at once); seconds until the next is due."""
        rows = await self.rows.due(self._clock(), self.BATCH)
        slots = asyncio.Semaphore(self.PARALLEL)

        async def one(row: Text) -> None:
            async with slots:
                try:
                    await self._send(client, row)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database or a bug: this row rests a while
                    with contextlib.suppress(Exception):
                        log.exception("sms.send_failed", text=row.id, error=repr(exc))
                        await self._failed(row, scrubbed(repr(exc), self.ERROR_CHARS))

        await asyncio.gather(*(one(row) for row in rows))
        if len(rows) == self.BATCH:
            return 0.0
        due = await self.rows.next_due()
        if due is None:
            return self.POLL
        return max(0.0, min(self.POLL, (due - self._clock()).total_seconds()))

    async def _send(self, client: aiohttp.ClientSession, row: Text) -> None:
        config = self._config()
        report = await self.rows.queries.get_report(row.reference)
        # The one rule, asked now: a redacted report has no number, a withdrawn consent
        # no "yes", and either stops the text.
        if not config.enabled or report is None \
                or not may_contact(report.answers, report.caller):
            await self.rows.withheld(row.id, self._clock())
            log.info("sms.withheld", text=row.id, kind=row.event)
            return
        template = config.template(row.event, row.language or report.language)
        if template is None:
            await self.rows.withheld(row.id, self._clock())
            log.warning("sms.no_wording", kind=row.event, language=row.language)
            return
        text = render(template, row.reference, config.line)
        destination = str(report.caller)
        await self.rows.sending(row.id, destination, text)
        try:
            async with client.get(config.kannel_url, params=self._params(
                    config, row, destination, text), allow_redirects=False) as response:
                status = response.status
                answer = (await response.content.read(512)).decode("utf-8", "replace")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            if 200 <= status < 300:
                await self.rows.sent(row.id, self._clock())
                log.info("sms.sent", text=row.id, kind=row.event, attempts=row.attempts + 1)
                return
            error = f"HTTP {status} {answer.strip()}"
        await self._failed(row, scrubbed(error, self.ERROR_CHARS))

    def _params(self, config: SmsConfig, row: Text, destination: str,
                text: str) -> dict[str, str]:
        params = {"username": config.username, "password": config.password,
                  "from": config.sender, "to": destination, "text": text,
                  "charset": "UTF-8", "coding": "2", "dlr-mask": "31",
                  # Kannel fills %d with the report's type; the token says which text.
                  "dlr-url": f"{self._dlr_base}{dlr_path(row.token)}?type=%d"}
        if config.smsc:
            params["smsc"] = config.smsc
        return params

    async def _failed(self, row: Text, error: str) -> None:
        now = self._clock()
        delay = min(self.FIRST_RETRY * 2 ** min(row.attempts, 30), self.MAX_RETRY)
        give_up = row.attempts + 1 >= self.MAX_ATTEMPTS
        await self.rows.attempt_failed(row.id, now, error, now + timedelta(seconds=delay),
                                       give_up)
        if give_up:
            log.error("sms.gave_up", text=row.id, attempts=row.attempts + 1, error=error)
        else:
            log.warning("sms.attempt_failed", text=row.id, attempts=row.attempts + 1,
                        error=error, retry_in=delay)


class TextingPublisher:
    """The call path's publisher: every event to the units' outbox as before, and, when a
    report is routed (registered with its unit), its text queued. Never waits, never raises."""

    def __init__(self, outbox: Publisher, sender: SmsSender) -> None:
        self.outbox = outbox
        self.sender = sender

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        self.outbox.publish(event, report, queue=queue, details=details)
        if event == "routed":
            with contextlib.suppress(Exception):
                language = report.get("language")
                self.sender.queue(str(report["reference"]), REGISTERED,
                                  language if isinstance(language, str) else None)
