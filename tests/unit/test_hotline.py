"""One loaded hotline: every file checked against the others, and reloaded as one (a bad
file anywhere keeps the whole previous hotline), with real files and a real store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from balagh.config.yamlsrc import ConfigError
from balagh.hotline import (
    APPLIED,
    REFUSED,
    UNCHANGED,
    HotlineFiles,
    LiveHotline,
    load_hotline,
    load_routing,
)
from balagh.readmodel.reader import reader_of
from balagh.supervise.pins import hash_pin

from .shipped import CONFIG_DIR, IVR_FILE

PIN_HASH = hash_pin("4321")


@pytest.fixture
def files(tmp_path: Path) -> HotlineFiles:
    for name in ("routing.yaml", "locations.yaml"):
        shutil.copy(CONFIG_DIR / name, tmp_path / name)
    return HotlineFiles(ivr=IVR_FILE, routing=tmp_path / "routing.yaml",
                        handover=tmp_path / "handover.yaml",
                        supervisors=tmp_path / "supervisors.yaml")


def agents_of(files: HotlineFiles, queue: str) -> None:
    files.handover.write_text(f"agents:\n  {queue}:\n    language: en\n")


def supervisor_of(files: HotlineFiles, queue: str, phone: str = "201") -> None:
    files.supervisors.write_text(
        "supervisors:\n  - name: Amina\n"
        f"    phones: ['{phone}']\n    pin: '{PIN_HASH}'\n    queues: [{queue}]\n")


def add_queue(files: HotlineFiles, queue: str) -> None:
    text = files.routing.read_text()
    files.routing.write_text(text.replace("queues:\n", f"queues:\n  - {queue}\n", 1))


def test_every_part_is_loaded_and_checked_against_the_table(files: HotlineFiles) -> None:
    agents_of(files, "child-protection")
    supervisor_of(files, "child-protection")
    hotline = load_hotline(files, {})
    assert "child-protection" in hotline.queues
    assert hotline.handover.agents["child-protection"].language == "en"
    assert hotline.supervisors.find("201") is not None
    assert hotline.prefixes  # the locations.yaml next to the table
    with pytest.raises(ConfigError, match=r"supervisors\.yaml"):
        supervisor_of(files, "no-such-queue")
        load_hotline(files, {})


def test_the_check_commands_part_stops_at_routing(files: HotlineFiles) -> None:
    supervisor_of(files, "no-such-queue")  # not read by load_routing
    routing = load_routing(files)
    assert routing.table.default_queue and routing.prefixes


def test_a_bad_supervisors_file_at_start_is_read_as_nobody(store, files) -> None:
    supervisor_of(files, "no-such-queue")
    live = LiveHotline(files, {}, store.calls)
    assert live.current.supervisors.supervisors == ()


async def test_a_queue_added_with_its_handover_is_applied_together(store, files) -> None:
    live = LiveHotline(files, {}, store.calls)
    add_queue(files, "youth-line")
    agents_of(files, "youth-line")
    supervisor_of(files, "youth-line")
    assert await live.reload("sighup") == APPLIED
    assert "youth-line" in live.current.queues
    assert "youth-line" in live.current.handover.agents
    assert live.current.supervisors.find("201") is not None


async def test_a_queue_removed_under_handover_refuses_the_whole_reload(store, files) -> None:
    add_queue(files, "youth-line")
    agents_of(files, "youth-line")
    live = LiveHotline(files, {}, store.calls)
    before = live.current
    files.routing.write_text(files.routing.read_text().replace("  - youth-line\n", "", 1))
    assert await live.reload("sighup") == REFUSED
    assert live.current is before
    await store.writer.flush()
    refused = (await reader_of(store).list_reloads())[0]
    assert refused.outcome == REFUSED and "youth-line" in (refused.error or "")


async def test_a_bad_supervisors_file_keeps_the_previous_table_too(store, files) -> None:
    live = LiveHotline(files, {}, store.calls)
    before = live.current
    files.routing.write_text(files.routing.read_text().replace(
        "queue: women-protection", "queue: general"))
    supervisor_of(files, "no-such-queue")
    assert await live.reload("file-change") == REFUSED
    assert live.current is before  # the good table change waits for the supervisors fix
    supervisor_of(files, "general")
    assert await live.reload("file-change") == APPLIED
    assert live.current.table.rules[-1].queue == "general"


async def test_refresh_loads_a_supervisor_added_a_moment_ago(store, files) -> None:
    live = LiveHotline(files, {}, store.calls)
    assert live.current.supervisors.find("201") is None
    supervisor_of(files, "child-protection")
    assert (await live.refresh()).supervisors.find("201") is not None
    assert await live.reload("sighup") == UNCHANGED
