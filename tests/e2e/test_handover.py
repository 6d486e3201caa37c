"""The report pushed to the unit's own system: a real HTTP receiver on 127.0.0.1, signed
documents, exactly once per event, across an outage and an app restart."""

from __future__ import annotations

import asyncio
import sqlite3

from balagh.handover.outbox import verify

from .conftest import HOOK_SECRET, Receiver, wait_for
from .legs import CHILD_IN_DANGER, answered_call, danger_caller_hangs_up_waiting, until


def events_of(receiver: Receiver, reference: str) -> list[str]:
    return [r.document["event"] for r in receiver.accepted
            if r.document["report"]["reference"] == reference]


async def test_an_answered_call_is_routed_answered_and_ended_signed(
        settings, running_app, receiver, ami) -> None:
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (_caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
        assert reference
        await until(lambda: events_of(receiver, reference) == ["routed", "answered"],
                    timeout=20, what="routed and answered at the unit")
    await until(lambda: events_of(receiver, reference)[-1:] == ["ended"], timeout=20,
                what="ended at the unit")
    mine = [r for r in receiver.accepted if r.document["report"]["reference"] == reference]
    for received in mine:
        assert verify(received.body, HOOK_SECRET, received.headers["Balagh-Signature"])
        assert received.headers["Idempotency-Key"] == received.document["id"]
    routed = mine[0].document
    assert routed["report"]["danger"] is True and routed["report"]["queue"] == \
        "child-protection"
    assert routed["report"]["emirate"] == "sharjah"
    assert mine[1].document["agent"] == "Sandbox child-protection agent"


async def test_a_caller_in_danger_who_hangs_up_waiting_raises_the_alert(
        settings, running_app, receiver, ami) -> None:
    reference, joined = await danger_caller_hangs_up_waiting(settings, ami)
    assert joined["Queue"] == "balagh-general" and reference

    def abandoned_event() -> dict | None:
        return next((r.document for r in receiver.accepted
                     if r.document["id"] == f"{reference}:abandoned"), None)

    abandoned = await asyncio.to_thread(wait_for, abandoned_event, timeout=20,
                                        what="the abandoned event")
    assert abandoned["alert"] == "caller in danger hung up before anyone answered"
    assert events_of(receiver, reference) == ["routed", "abandoned"]


async def test_every_event_arrives_once_after_an_outage_and_an_app_restart(
        settings, running_app, receiver, ami) -> None:
    receiver.stop()
    try:
        async with answered_call(ami, settings, CHILD_IN_DANGER) as (_caller, connect):
            reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
            assert reference
        await until(lambda: waiting(settings, reference) == 3, timeout=30,
                    what="three events waiting in the outbox")
        await asyncio.to_thread(running_app.stop)
        await asyncio.to_thread(running_app.start)
    finally:
        receiver.start()
    await until(lambda: sorted(events_of(receiver, reference)) ==
                ["answered", "ended", "routed"], timeout=60, what="all three after the outage")
    keys = [k for k in receiver.keys() if k.startswith(f"{reference}:")]
    assert len(keys) == len(set(keys)) == 3  # exactly once per idempotency key


def waiting(settings, reference: str) -> int:
    """The report's deliveries still pending in the app's outbox (the receiver is down)."""
    with sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox WHERE reference = ? AND "
                              "status = 'pending'", (reference,)).fetchone()[0])
