"""The unit's follow-up against the real app: `balagh run` with its inbound listener on, a
real call routed to child-protection (whose endpoint has a secret: handover.yaml's "*"), then
a real HTTP POST signed as docs/units.md shows → the timeline, `balagh reports`, `balagh
stats --followup`; the same id again is a duplicate, a stale signature 401."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from balagh.localtime import local

from .conftest import AppProcess, balagh, report_row
from .followup_client import free_port, post
from .legs import CHILD_IN_DANGER, answered_call


@pytest.fixture
def listening_app(app: AppProcess) -> Iterator[int]:
    """The session's app started again with its inbound listener on a free port."""
    port = free_port()
    app.stop()
    app.extra_env = {"BALAGH_INBOUND_ENABLED": "true", "BALAGH_INBOUND_PORT": str(port)}
    app.start()
    try:
        yield port
    finally:
        app.stop()
        app.extra_env = {}
        app.start()


async def test_a_units_resolved_reaches_timeline_reports_and_stats(
        settings, listening_app, ami) -> None:
    port = listening_app
    async with answered_call(ami, settings, CHILD_IN_DANGER) as (_caller, connect):
        reference = await ami.getvar(connect["Channel"], "BALAGH_REFERENCE")
    assert reference
    assert await asyncio.to_thread(report_row, settings, reference, routed=True)
    first, resolved = str(uuid.uuid4()), str(uuid.uuid4())
    assert await post(port, reference, {"status": "received"}, first) == (
        200, {"result": "taken", "status": "received", "id": first})
    started = time.monotonic()
    status, _ = await post(port, reference, {"status": "resolved",
                                             "reason": "the family was visited"}, resolved)
    took = time.monotonic() - started
    assert status == 200
    assert await post(port, reference, {"status": "resolved"}, resolved) == (
        200, {"result": "duplicate", "id": resolved})
    assert (await post(port, reference, {"status": "resolved"}, "late",
                       t=int(time.time()) - 600))[0] == 401
    assert (await post(port, "0000000", {"status": "resolved"}, "x"))[0] == 404

    shown = await asyncio.to_thread(balagh, settings, "reports", reference)
    assert shown.returncode == 0, shown.stderr
    followups = [line for line in shown.stdout.splitlines() if " followup " in line]
    assert len(followups) == 2 and "reason=the family was visited" in followups[1]
    assert any(line.split() == ["followup_status", "resolved"]
               for line in shown.stdout.splitlines())
    listed = await asyncio.to_thread(balagh, settings, "reports")
    assert any(reference in line and line.rstrip().endswith("resolved")
               for line in listed.stdout.splitlines()), listed.stdout
    today = local(datetime.now(UTC), settings.zone).date().isoformat()
    stats = await asyncio.to_thread(balagh, settings, "stats", "--since", today, "--until",
                                    today, "--followup", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    assert figures["by_status"]["resolved"] >= 1
    assert any(row["queue"] == "child-protection" and row["unit"] == "E2E_UNIT"
               for row in figures["resolution"])
    print(f"\nfollowup: a signed 'resolved' answered in {took * 1000:.0f} ms")
