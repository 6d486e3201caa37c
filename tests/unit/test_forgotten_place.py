"""Issue 23: `balagh reports redact` forgets where a caller was as well as their number:
not one byte of either is left in any file the app writes in its data folder (database,
WAL, shm, spool, keys), in its log, in the outbox documents, nor in what `balagh reports`
shows or exports."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from balagh.handover.callers import caller_hash_key
from balagh.handover.load import Endpoint, HandoverConfig
from balagh.handover.outbox import Outbox
from balagh.handover.summary import HandoverSettings
from balagh.ivr.flow import handle_call
from balagh.ivr.menu import load_menu
from balagh.ivr.port import CallInfo
from balagh.logs import setup_logging
from balagh.routing.load import load_table
from balagh.store.reports import ReportStore

from .fakes import FixedClock, ScriptedCall, call_store
from .handover_receiver import Receiver, eventually_async
from .shipped import IVR_FILE, ROUTING_FILE
from .test_forgotten_number import FORMS, NUMBER, cli

PLACE = "fujairah"  # key 7 in the shipped menu; no rule, queue or label of ours names it
OLD = datetime(2020, 1, 5, 9, 30, tzinfo=UTC)
EVENTS = frozenset({"routed", "answered", "abandoned", "ended"})


class FastOutbox(Outbox):
    FIRST_RETRY = 0.02
    MAX_RETRY = 0.1
    POLL = 0.05
    TIMEOUT = 2.0


async def _old_call_handed_over(database: Path, receiver: Receiver) -> str:
    menu = load_menu(IVR_FILE)
    table = load_table(ROUTING_FILE, menu.answer_values())
    store = await ReportStore.open(database)
    config = HandoverConfig({"*": (Endpoint(receiver.url, "unit-secret", EVENTS),)})
    outbox = FastOutbox(store.outbox, lambda: config)
    worker = asyncio.create_task(outbox.run())
    try:
        info = CallInfo(call_id="1600000000.7", channel="PJSIP/trunk-00000007",
                        caller=NUMBER, hotline="800700")
        call = ScriptedCall(["1", "2", "2", "2", "7", "0", None], info=info)
        handover = HandoverSettings(caller_key=caller_hash_key(database.parent, environ={}),
                                    outbox=outbox)
        outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(OLD),
                                    handover=handover)

        async def delivered() -> bool:
            return any(row.status == "delivered" for row in await store.queries.deliveries(None,
                                                                                           10))

        await eventually_async(delivered, what="the routed event delivered")
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        # One more event that the stopped worker leaves pending: a body still to be sent.
        routed = json.loads(receiver.accepted[0].body)
        outbox.publish("abandoned", routed["report"], queue=routed["report"]["queue"])
        await store.writer.flush()
        return outcome.reference
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await store.close()


def traces(data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [form for form in (*FORMS, PLACE) if form in text.lower()]


def every_file(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_a_redacted_report_keeps_neither_number_nor_place_anywhere(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data))
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    receiver = Receiver().start()
    log_file = tmp_path / "app.log"
    try:
        with log_file.open("w") as log, monkeypatch.context() as patched:
            patched.setattr("sys.stderr", log)
            setup_logging("debug")  # the app's own set-up, every line it would write
            reference = asyncio.run(_old_call_handed_over(data / "balagh.sqlite3", receiver))
    finally:
        receiver.stop()
    # Before: the report, its timeline and both outbox documents hold the place.
    assert PLACE in cli("reports", reference, "--show-numbers")[1]
    with sqlite3.connect(data / "balagh.sqlite3") as db:
        bodies = dict(db.execute("SELECT status, body FROM outbox").fetchall())
    assert set(bodies) == {"delivered", "pending"}
    assert all(PLACE in body for body in bodies.values())

    status, said = cli("reports", "redact", "--older-than", "30", "--yes")
    assert status == 0, said

    for path in every_file(data):
        found = traces(path.read_bytes())
        assert found == [], f"{path.relative_to(data)} still holds {found}"
    assert traces(log_file.read_bytes()) == []
    for argv in (["reports", "--format", "json", "--show-numbers"],
                 ["reports", "--format", "csv", "--show-numbers"],
                 ["reports", reference, "--show-numbers"],
                 ["reports", reference, "--format", "json", "--show-numbers"]):
        status, shown = cli(*argv)
        assert status == 0, shown
        assert traces(shown) == [], f"balagh {' '.join(argv)}: {shown[:500]}"
    # The pending document still goes, without the place; the delivered copy is gone.
    with sqlite3.connect(data / "balagh.sqlite3") as db:
        left = db.execute("SELECT status, body FROM outbox").fetchall()
    assert [status for status, _ in left] == ["pending"]
    report = json.loads(left[0][1])["report"]
    assert report["emirate"] is None and report["location_source"] == "redacted"
    assert report["reference"] == reference


def test_redact_keeps_the_statistics_counts_whole(tmp_path, monkeypatch):
    """The day's count stays; the redacted call moves from its emirate to (unknown)."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data))
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    receiver = Receiver().start()
    try:
        asyncio.run(_old_call_handed_over(data / "balagh.sqlite3", receiver))
    finally:
        receiver.stop()

    def counts() -> dict[tuple[str, str], int]:
        with sqlite3.connect(data / "balagh.sqlite3") as db:
            rows = db.execute("SELECT dim, value, sum(n) FROM stats_hourly WHERE kind = 0"
                              " GROUP BY dim, value HAVING sum(n) != 0").fetchall()
        return {(dim, value): n for dim, value, n in rows}

    before = counts()
    assert before[("emirate", PLACE)] == 1
    assert cli("reports", "redact", "--older-than", "30", "--yes")[0] == 0
    after = counts()
    assert ("emirate", PLACE) not in after and after[("emirate", "(unknown)")] == 1
    with sqlite3.connect(data / "balagh.sqlite3") as db:  # nor a row left at zero
        assert db.execute("SELECT count(*) FROM stats_hourly WHERE value = ?",
                          (PLACE,)).fetchone()[0] == 0
    assert {k: v for k, v in after.items() if k[0] != "emirate"} == \
        {k: v for k, v in before.items() if k[0] != "emirate"}
