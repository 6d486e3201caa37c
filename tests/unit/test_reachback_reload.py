"""SIGHUP reloads config/reachback.yaml through the app's own handler: a good file is
used by the next text, a bad one is refused (its file:line: key: problem logged) and
the old one goes on. Real parts: a real signal, a real store, a real HTTP "Kannel"."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from balagh.app import SighupReloads
from balagh.config import Settings
from balagh.hotline.live import APPLIED, REFUSED
from balagh.inbound import InboundServer
from balagh.reachback.live import LiveReachback
from balagh.reachback.sms import SmsSender
from balagh.reachback.survey_wiring import surveying
from balagh.reachback.wiring import texting
from balagh.store import ReportStore

from .handover_receiver import eventually
from .reachback_helpers import Asterisk
from .test_sms_texts import FakeKannel, Worker, report
from .test_survey_calls import resolved_report

OLD = "Old {reference}, call {line}."
NEW = "New {reference}, call {line}."


def write_reachback(path: Path, kannel: FakeKannel, template: str) -> None:
    path.write_text(
        "sms:\n"
        "  enabled: true\n"
        f"  kannel_url: {kannel.url}\n"
        "  sender: '800700'\n"
        "  line: '800700'\n"
        "  templates:\n"
        "    registered:\n"
        f"      ar: '{template}'\n"
        f"      en: '{template}'\n", encoding="utf-8")


class Nowhere:
    """The units' outbox, unused here: only the texts are looked at."""

    def publish(self, event: str, report: Mapping[str, object], *, queue: str | None,
                details: Mapping[str, object] | None = None) -> None:
        return None


class Outcomes:
    """The live reachback.yaml as the SIGHUP handler sees it, each reload's outcome kept
    so the test waits on it (an event, not a sleep)."""

    def __init__(self, live: LiveReachback) -> None:
        self.live = live
        self.seen: asyncio.Queue[str] = asyncio.Queue()

    async def reload(self, trigger: str) -> str:
        outcome = await self.live.reload(trigger)
        self.seen.put_nowait(outcome)
        return outcome


@pytest.fixture
async def kannel() -> AsyncIterator[FakeKannel]:
    fake = await FakeKannel().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def texts(store: ReportStore, kannel: FakeKannel,
                tmp_path: Path) -> AsyncIterator[tuple[Path, Outcomes, SmsSender]]:
    """The app's parts for texts, wired as `balagh run` wires them, and SIGHUP's handler."""
    path = tmp_path / "reachback.yaml"
    write_reachback(path, kannel, OLD)
    settings = replace(Settings(), data_dir=tmp_path, reachback_file=path)
    live = LiveReachback(path, {}, settings.sounds_dir)
    _, sender = texting(settings, store.sms, Nowhere(), InboundServer(settings.inbound),
                        live.sms)
    assert sender is not None
    worker = Worker(sender)
    outcomes = Outcomes(live)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, SighupReloads(settings, (outcomes,)))
    try:
        yield path, outcomes, sender
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await worker.stop()


async def text_of(kannel: FakeKannel, sender: SmsSender, store: ReportStore,
                  reference: str) -> str:
    report(store, reference)
    sender.queue(reference, "registered", "ar")
    await eventually(lambda: any(reference in sent["text"] for sent in kannel.requests),
                     what=f"the text of {reference}")
    return next(sent["text"] for sent in kannel.requests if reference in sent["text"])


async def test_sighup_puts_a_changed_template_into_the_next_text(
        store: ReportStore, kannel: FakeKannel,
        texts: tuple[Path, Outcomes, SmsSender]) -> None:
    path, outcomes, sender = texts
    assert await text_of(kannel, sender, store, "3356375") == "Old 3356375, call 800700."
    write_reachback(path, kannel, NEW)
    os.kill(os.getpid(), signal.SIGHUP)
    assert await outcomes.seen.get() == APPLIED
    assert await text_of(kannel, sender, store, "4455667") == "New 4455667, call 800700."


async def test_a_bad_file_on_sighup_keeps_the_old_one_and_logs_where(
        store: ReportStore, kannel: FakeKannel,
        texts: tuple[Path, Outcomes, SmsSender]) -> None:
    path, outcomes, sender = texts
    write_reachback(path, kannel, "Hello {name}")
    with capture_logs() as logs:
        os.kill(os.getpid(), signal.SIGHUP)
        assert await outcomes.seen.get() == REFUSED
    refused = [entry for entry in logs if entry["event"] == "reachback.reload_refused"]
    assert len(refused) == 1 and refused[0]["log_level"] == "error"
    assert f"{path}:8: sms.templates.registered.ar: unknown placeholder {{name}}" \
        in refused[0]["error"]
    assert await text_of(kannel, sender, store, "3356375") == "Old 3356375, call 800700."
    write_reachback(path, kannel, NEW)  # mended: the next SIGHUP takes it
    os.kill(os.getpid(), signal.SIGHUP)
    assert await outcomes.seen.get() == APPLIED
    assert await text_of(kannel, sender, store, "4455667") == "New 4455667, call 800700."


def write_section(path: Path, section: str, delay: int) -> None:
    """reachback.yaml with one dialling section on (`callbacks` or `survey`)."""
    path.write_text(f"{section}:\n  enabled: true\n  dial: 'Local/{{number}}@balagh-test-callee'\n"
                    f"  delay_seconds: {delay}\n", encoding="utf-8")


async def sighup(settings: Settings, outcomes: Outcomes) -> str:
    """A real SIGHUP through the app's handler; the reload's outcome."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, SighupReloads(settings, (outcomes,)))
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        return await outcomes.seen.get()
    finally:
        loop.remove_signal_handler(signal.SIGHUP)


async def test_sighup_gives_the_next_satisfaction_call_the_new_delay(
        store: ReportStore, tmp_path: Path) -> None:
    path = tmp_path / "reachback.yaml"
    write_section(path, "survey", 3600)
    settings = replace(Settings(), data_dir=tmp_path, reachback_file=path)
    outcomes = Outcomes(LiveReachback(path, {}, settings.sounds_dir))
    parts = surveying(settings, store, Asterisk(), dict, outcomes.live.survey)
    assert parts.on_resolved is not None
    write_section(path, "survey", 7200)
    assert await sighup(settings, outcomes) == APPLIED
    resolved = await resolved_report(store)
    parts.on_resolved(resolved)
    await store.writer.flush()
    [row] = await store.survey_calls.listing(("pending",))
    assert datetime.fromisoformat(row.next_attempt_at) == resolved.at + timedelta(seconds=7200)


async def test_sighup_gives_the_next_callback_the_new_delay(
        store: ReportStore, tmp_path: Path) -> None:
    from balagh.reachback.callbacks_wiring import calling_back

    from .test_callbacks import Outbox, seed

    path = tmp_path / "reachback.yaml"
    write_section(path, "callbacks", 60)
    settings = replace(Settings(), data_dir=tmp_path, reachback_file=path)
    outcomes = Outcomes(LiveReachback(path, {}, settings.sounds_dir))
    publisher, dialler = calling_back(settings, store.callbacks, store.queries, Outbox(),
                                      Asterisk(), dict, dict, InboundServer(settings.inbound),
                                      outcomes.live.callbacks)
    assert dialler is not None

    async def delay_of(call_id: str) -> float:
        reference = await seed(store, call_id)
        publisher.publish("abandoned", {"reference": reference, "danger": True},
                          queue="women-protection")
        await store.writer.flush()
        row = await store.callbacks.of_reference(reference)
        assert row is not None
        return (datetime.fromisoformat(row.next_attempt_at)
                - datetime.fromisoformat(row.created_at)).total_seconds()

    assert await delay_of("c1") == 60
    write_section(path, "callbacks", 900)
    assert await sighup(settings, outcomes) == APPLIED
    assert await delay_of("c2") == 900
