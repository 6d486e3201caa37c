"""What the e2e tests of calls the app places back to a caller (callbacks, satisfaction
calls) share: their own app with the consent question and a reachback.yaml on, the caller
in danger who consents (or not) and hangs up while waiting, the app seeing its free
agents, the calls Asterisk creates for them, and their rows polled in the database."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from balagh.ami.client import AmiSession, wait_for_event
from balagh.config import Settings
from balagh.testcall.caller import place_call

from .conftest import AppProcess
from .legs import DANGER_TO_GENERAL, until

CONSENT_BLOCK = """
consent:
  prompt: ask-contact-safe
  options:
    1: 'yes'
    2: 'no'
  timeout: 3
  attempts: 1
"""


def hours_now(settings: Settings) -> str:
    """A window of hours around now in the hotline's zone (calls are refused outside)."""
    now = datetime.now(settings.zone)
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"


@contextlib.contextmanager
def reachback_app(app: AppProcess, settings: Settings, data_dir: Path, name: str,
                  reachback: str, extra_env: dict[str, str] | None = None
                  ) -> Iterator[AppProcess]:
    """The module's own app, on copies of the menu with the consent question on and of
    `reachback` (BALAGH_IVR_FILE, BALAGH_REACHBACK_FILE); the session's app gives way
    (one app per Stasis name) and is given back afterwards."""
    config = data_dir / "config"
    menu = config / f"ivr-{name}.yaml"
    menu.write_text(settings.ivr_file.read_text(encoding="utf-8") + CONSENT_BLOCK,
                    encoding="utf-8")
    reachback_file = config / f"reachback-{name}.yaml"
    reachback_file.write_text(reachback, encoding="utf-8")
    app.stop()
    process = AppProcess(settings, data_dir / f"app-{name}.log", extra_env={
        "BALAGH_IVR_FILE": str(menu), "BALAGH_REACHBACK_FILE": str(reachback_file),
        **(extra_env or {})})
    process.start()
    try:
        yield process
    finally:
        process.stop()
        app.start()


def rows(settings: Settings, sql: str, *args: object) -> list[dict[str, Any]]:
    """A read of the app's database, read-only beside the running app."""
    with contextlib.closing(sqlite3.connect(f"file:{settings.database}?mode=ro",
                                            uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql, args)]


def placed_row(settings: Settings, table: str, reference: str) -> dict[str, Any] | None:
    """The row of `table` (callbacks, survey_calls) for the report `reference`."""
    found = rows(settings, f"SELECT * FROM {table} WHERE reference = ?", reference)
    return found[0] if found else None


def row_in(settings: Settings, table: str, reference: str,
           *statuses: str) -> Callable[[], dict[str, Any] | None]:
    """For `until`: the row once its status is one of `statuses`."""
    def found() -> dict[str, Any] | None:
        row = placed_row(settings, table, reference)
        return row if row is not None and row["status"] in statuses else None

    return found


async def agents_seen(app: AppProcess, available: int) -> None:
    """Until the app's queue state (QueueSummary, every 2 s) shows the general line with
    `available` free agents, after now."""
    before = len(app.events("queue.agents"))
    await until(lambda: any(e.get("queue") == "general" and e.get("available") == available
                            for e in app.events("queue.agents")[before - 1 if before else 0:]),
                timeout=15, what=f"the app seeing {available} free general agent(s)")


async def danger_caller_hangs_up(settings: Settings, ami: AmiSession, number: str,
                                 consent: str) -> tuple[str, float]:
    """A caller in danger answers the consent question (asked: no agent is free), joins the
    general line and hangs up: their reference and when Asterisk said they abandoned."""
    abandons = ami.listen(lambda e: e.get("Event") == "QueueCallerAbandon")
    try:
        result = await place_call(settings, settings.hotline, [*DANGER_TO_GENERAL, consent],
                                  caller_id=number)
        assert result.queue == "general" and result.priority == 10, result.summary()
        assert "ask-contact-safe" in result.played, result.played
        await wait_for_event(abandons, lambda e: e.get("Channel") == result.hotline_channel, 30)
        abandoned_at = time.monotonic()
    finally:
        ami.unlisten(abandons)
    assert result.reference
    return result.reference, abandoned_at


@contextlib.asynccontextmanager
async def placed_channels(ami: AmiSession, id_prefix: str, callee: str | None = None
                          ) -> AsyncIterator[list[dict[str, str]]]:
    """Every channel Asterisk creates while the block runs whose Uniqueid starts with
    `id_prefix` (the ChannelId the dialler gives), or whose name holds `callee`."""
    seen: list[dict[str, str]] = []
    events = ami.listen(lambda e: e.get("Event") == "Newchannel"
                        and (e.get("Uniqueid", "").startswith(id_prefix)
                             or (callee is not None and callee in e.get("Channel", ""))))

    async def collect() -> None:
        while True:
            seen.append(await events.get())

    task = asyncio.create_task(collect())
    try:
        yield seen
    finally:
        task.cancel()
        ami.unlisten(events)


def dialled(channels: list[dict[str, str]], id_prefix: str = "") -> list[str]:
    """The placed calls' ChannelIds among the channels (a Local channel's far half is the
    same id with ';2')."""
    return [c["Uniqueid"] for c in channels
            if c["Uniqueid"].startswith(id_prefix) and ";" not in c["Uniqueid"]]
