"""Fault row: a routing table with an alias bomb in its keys, reloaded under the live app.

The app reloads routing.yaml through the same bounded loader as `balagh routes check`: the
bomb must be refused at once, naming the file and line, with the app's memory flat and the
next caller routed by the table it had."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from balagh.testcall import place_call

from .conftest import AppProcess, FaultRow, reload_and_wait

ADULT_WOMAN = ["2", "2", "2", "2", "1", "0"]  # English, no danger, adult, female, Abu Dhabi
# Nine levels, each a list of nine aliases of the level before, used only as mapping keys
# (the review's 369-byte file ran `routes check` into MemoryError after 13 s).
KEY_BOMB = "queues: [general]\nrules:\n" + "".join(f"  {line}\n" for line in (
    "? &k0 [x, x, x, x, x, x, x, x, x]\n: 0\n" + "".join(
        f"? &k{level} [{', '.join([f'*k{level - 1}'] * 9)}]\n: {level}\n"
        for level in range(1, 9))).splitlines())


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_a_key_bomb_reload_is_refused_at_once_and_calls_keep_their_table(
        settings, running_app: AppProcess, table_file: Path,
        fault_rows: list[FaultRow]) -> None:
    assert running_app.process is not None
    pid = running_app.process.pid
    before_kib = peak_rss_kib(pid)
    await asyncio.to_thread(table_file.write_text, KEY_BOMB)
    started = time.monotonic()
    history = await asyncio.to_thread(reload_and_wait, settings, "refused")
    refused_in = time.monotonic() - started
    assert f"{table_file.name}:" in history, history
    after_kib = peak_rss_kib(pid)
    assert after_kib < before_kib + 50 * 1024, (before_kib, after_kib)  # not gigabytes
    result = await place_call(settings, "800700", ADULT_WOMAN, ahead=True)
    assert result.queue == "women-protection"  # the table it had
    assert running_app.process.poll() is None
    fault_rows.append(FaultRow(
        f"routing.yaml replaced by a {len(KEY_BOMB)}-byte alias bomb in its keys, "
        "reloaded under the live app",
        "refused at once naming the file and line; the app's memory flat; the next caller "
        "routed by the table it had",
        f"refused {refused_in:.1f} s after `balagh routes reload` (the command's own wait "
        f"included); the app's peak RSS {before_kib / 1024:.0f} -> {after_kib / 1024:.0f} MB; "
        f"next caller in {result.queue}"))
