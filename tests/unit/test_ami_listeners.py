"""AMI listeners: each gets the events it takes, and one that stops reading is bounded."""

from __future__ import annotations

from typing import Any

from balagh.ami import client
from balagh.ami.client import AmiSession
from balagh.config import AmiSettings


def hangup(n: int) -> dict[str, Any]:
    return {"Event": "Hangup", "Uniqueid": str(n)}


async def test_a_listener_that_stops_reading_holds_at_most_the_bound(monkeypatch):
    monkeypatch.setattr(client, "MAX_UNREAD_EVENTS", 100)
    ami = AmiSession(AmiSettings())
    stuck = ami.listen(lambda e: e.get("Event") == "Hangup")
    reading = ami.listen(lambda e: e.get("Event") == "Hangup")
    for n in range(250):
        ami._on_event(None, hangup(n))  # type: ignore[arg-type]
        if n % 10 == 0:
            while not reading.empty():
                reading.get_nowait()
    assert stuck.qsize() == 100  # the first hundred, then nothing more
    assert stuck.get_nowait()["Uniqueid"] == "0"
    assert ami.dropped_events == 150
    assert reading.qsize() <= 10  # a listener that reads is not held back by the other
    ami.unlisten(stuck)
    ami._on_event(None, hangup(999))  # type: ignore[arg-type]
    assert ami.dropped_events == 150
