"""The live hotline's routing table: reload good, refuse bad (keeping the old), record
every attempt. (Moved from test_reload.py with LiveTable, now LiveHotline.)"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from balagh.config.yamlsrc import ConfigError
from balagh.hotline import APPLIED, REFUSED, UNCHANGED, HotlineFiles, LiveHotline
from balagh.readmodel.reader import reader_of

from .shipped import CONFIG_DIR, IVR_FILE


@pytest.fixture
def routing(tmp_path: Path) -> Path:
    for name in ("routing.yaml", "locations.yaml"):
        if (CONFIG_DIR / name).exists():
            shutil.copy(CONFIG_DIR / name, tmp_path / name)
    return tmp_path / "routing.yaml"


def files(routing: Path) -> HotlineFiles:
    """The shipped menu, the copied table, no handover and no supervisors file."""
    return HotlineFiles(ivr=IVR_FILE, routing=routing, handover=routing.parent / "handover.yaml",
                        supervisors=routing.parent / "supervisors.yaml")


def women_to_general(path: Path) -> None:
    text = path.read_text()
    changed = text.replace("queue: women-protection", "queue: general")
    assert changed != text
    path.write_text(changed)


async def test_good_change_is_applied_and_recorded(store, routing):
    live = LiveHotline(files(routing), {}, store.calls)
    before = live.current
    women_to_general(routing)
    assert await live.reload("sighup: test") == APPLIED
    assert live.current is not before
    assert live.current.table.rules[-1].queue == "general"
    await store.writer.flush()
    history = await reader_of(store).list_reloads()
    assert [(h.trigger, h.outcome) for h in history] == [("sighup: test", APPLIED),
                                                         ("startup", APPLIED)]
    assert history[0].sha256 != history[1].sha256
    assert history[0].rules == len(live.current.table.rules)


async def test_bad_file_is_refused_and_the_old_table_kept(store, routing):
    live = LiveHotline(files(routing), {}, store.calls)
    before = live.current
    routing.write_text(routing.read_text().replace("queue: child-protection",
                                                   "queue: child-protecton"))
    assert await live.reload("sighup") == REFUSED
    assert live.current is before
    await store.writer.flush()
    refused = (await reader_of(store).list_reloads())[0]
    assert refused.outcome == REFUSED
    assert "child-protecton" in refused.error and "routing.yaml:" in refused.error
    # The same bad file is not tried again and again; fixing it is.
    assert await live.reload("file-change") == UNCHANGED
    routing.write_text(routing.read_text().replace("child-protecton", "child-protection"))
    assert await live.reload("file-change") == APPLIED


async def test_unchanged_file_is_not_reloaded(store, routing):
    live = LiveHotline(files(routing), {}, store.calls)
    assert await live.reload("sighup") == UNCHANGED


async def test_bad_table_at_startup_is_fatal_and_recorded(store, routing):
    routing.write_text("queues: [general]\nrules: []\n")  # no default
    with pytest.raises(ConfigError):
        LiveHotline(files(routing), {}, store.calls)
    await store.writer.flush()
    assert (await reader_of(store).list_reloads())[0].outcome == REFUSED


async def test_watch_applies_a_change_once_it_is_stable(store, routing):
    live = LiveHotline(files(routing), {}, store.calls)
    watcher = asyncio.create_task(live.watch(interval=0.02))
    try:
        women_to_general(routing)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if live.current.table.rules[-1].queue == "general":
                break
        assert live.current.table.rules[-1].queue == "general"
    finally:
        watcher.cancel()
    await store.writer.flush()
    assert (await reader_of(store).list_reloads())[0].trigger == "file-change"
