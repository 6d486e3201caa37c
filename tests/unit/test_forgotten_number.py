"""Issue 14: a number redacted or purged by retention is gone from everything Balagh
wrote: the database files (with WAL and shm), the app's log, and `balagh reports`."""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.ivr.flow import handle_call
from balagh.ivr.menu import load_menu
from balagh.ivr.port import CallInfo
from balagh.logs import setup_logging
from balagh.routing.load import load_table
from balagh.store.reports import ReportStore

from .fakes import FixedClock, ScriptedCall, call_store
from .shipped import IVR_FILE, ROUTING_FILE

NUMBER = "+971501234567"
# The number as other code might have written it: without '+', nationally.
FORMS = (NUMBER, NUMBER[1:], "0501234567", "501234567")
OLD = datetime(2020, 1, 5, 9, 30, tzinfo=UTC)


async def _old_call(database: Path) -> str:
    menu = load_menu(IVR_FILE)
    table = load_table(ROUTING_FILE, menu.answer_values())
    store = await ReportStore.open(database)
    try:
        info = CallInfo(call_id="1600000000.7", channel="PJSIP/trunk-00000007",
                        caller=NUMBER, hotline="800700")
        call = ScriptedCall(["1", "2", "2", "2", "1", "0", None], info=info)
        outcome = await handle_call(call, menu, table, call_store(store), clock=FixedClock(OLD))
        await store.writer.flush()
        return outcome.reference
    finally:
        await store.close()


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        status = main(list(argv))
    return status, out.getvalue()


def found_in(data: bytes | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [form for form in FORMS if form in text]


@pytest.mark.parametrize("action", ["redact", "purge"])
def test_a_forgotten_number_is_nowhere(tmp_path, monkeypatch, action):
    data = tmp_path / "data"
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data))
    log_file = tmp_path / "app.log"
    with log_file.open("w") as log, redirect_stderr(log):
        setup_logging("debug")  # the app's own set-up, every line it would write
        reference = asyncio.run(_old_call(data / "balagh.sqlite3"))
    # Before: the report keeps the number, the log only its masked form.
    assert NUMBER in cli("reports", reference, "--show-numbers")[1]
    assert found_in(log_file.read_bytes()) == []
    assert "+9715****4567" in log_file.read_text()

    status, said = cli("reports", action, "--older-than", "30", "--yes")
    assert status == 0, said

    for path in sorted(data.iterdir()):
        assert found_in(path.read_bytes()) == [], f"{path.name} still holds the number"
    assert found_in(log_file.read_bytes()) == []
    for argv in (["reports", "--format", "json", "--show-numbers"],
                 ["reports", "--format", "csv", "--show-numbers"],
                 ["reports", reference, "--show-numbers"]):
        status, shown = cli(*argv)
        assert found_in(shown) == [], f"balagh {' '.join(argv)}: {shown[:500]}"
