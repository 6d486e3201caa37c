"""The caller-hash key (issue 23): checked, written atomically and privately, kept out of
backups unless asked, and rotatable without forgetting the repeat window's callers."""

from __future__ import annotations

import asyncio
import io
import stat
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.handover.callers import (
    PREVIOUS_FILE,
    CallerKeyError,
    caller_hash,
    caller_hash_key,
    caller_keys,
    key_path,
    rotate_caller_key,
)
from balagh.store.reports import ReportStore

NUMBER = "+971501234567"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        status = main(list(argv))
    return status, out.getvalue()


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is empty"),
    (b"\n", "is empty"),
    (b"0123abcd" * 4 + b"\n", "holds 16 bytes, at least 32"),
    (b"correct horse battery staple, a passphrase not a key!!!!!!!!!!!!!!", "not hex"),
])
def test_a_bad_key_file_is_named_not_replaced(tmp_path: Path, content: bytes,
                                             problem: str) -> None:
    path = key_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(CallerKeyError) as caught:
        caller_hash_key(tmp_path, environ={})
    assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value)
    assert path.read_bytes() == content  # left for the operator to see


def test_a_short_key_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(CallerKeyError, match=r"^BALAGH_CALLER_HASH_KEY: .*holds 3 bytes"):
        caller_hash_key(tmp_path, environ={"BALAGH_CALLER_HASH_KEY": "abcdef"})


def test_a_bad_key_stops_the_command_with_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BALAGH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    key_path(tmp_path).parent.mkdir()
    key_path(tmp_path).write_bytes(b"")
    status, said = cli("callers", "check-key")
    assert status != 0 and f"{key_path(tmp_path)}: the caller-hash key is empty" in said


def test_a_new_key_is_32_random_bytes_private_and_whole(tmp_path: Path) -> None:
    key = caller_hash_key(tmp_path, environ={})
    path = key_path(tmp_path)
    assert len(key) == 64 and int(key, 16) > 0
    assert path.read_bytes() == key + b"\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["caller-hash.key"]  # no temp left
    assert caller_hash_key(tmp_path, environ={}) == key


def test_the_old_key_beside_the_database_moves_into_the_keys_folder(tmp_path: Path) -> None:
    old = b"ab" * 32
    (tmp_path / "caller-hash.key").write_bytes(old + b"\n")
    assert caller_hash_key(tmp_path, environ={}) == old  # the same hashes as before
    assert not (tmp_path / "caller-hash.key").exists()
    assert key_path(tmp_path).read_bytes() == old + b"\n"


async def _reports(database: Path, key: bytes, started: list[datetime]) -> None:
    store = await ReportStore.open(database)
    try:
        for n, at in enumerate(started):
            store.calls.start_report(call_id=f"c{n}", reference=f"100000{n}", channel="PJSIP/x",
                                     caller=NUMBER, hotline="800700", started_at=at,
                                     caller_hash=caller_hash(key, NUMBER))
        await store.writer.flush()
    finally:
        await store.close()


async def _calls_from(database: Path, hashed: str, since: datetime) -> int:
    store = await ReportStore.open(database)
    try:
        return await store.queries.calls_from(hashed, since, besides="none")
    finally:
        await store.close()


def test_backup_leaves_the_key_out_unless_asked(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data))
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    key = caller_hash_key(data, environ={})
    asyncio.run(_reports(data / "balagh.sqlite3", key, [NOW]))
    out = tmp_path / "backups"
    out.mkdir()
    status, said = cli("backup", str(out / "plain.sqlite3"))
    assert status == 0, said
    assert "not in the backup" in said
    assert sorted(p.name for p in out.iterdir()) == ["plain.sqlite3"]
    assert key not in (out / "plain.sqlite3").read_bytes()

    status, said = cli("backup", str(out / "keyed.sqlite3"), "--with-keys")
    assert status == 0, said
    copied = out / "keyed.sqlite3.keys" / "caller-hash.key"
    assert copied.read_bytes() == key + b"\n"
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    assert stat.S_IMODE(copied.parent.stat().st_mode) == 0o700


def test_the_nightly_backup_service_does_not_copy_keys() -> None:
    unit = Path(__file__).parents[2] / "systemd" / "balagh-backup.service"
    text = unit.read_text(encoding="utf-8")
    assert "--with-keys" not in text.split("ExecStart=", 1)[1].splitlines()[0]
    assert "caller-hash key" in text  # says why, for whoever edits it


def test_rotation_keeps_the_previous_key_for_the_window_then_drops_it(tmp_path: Path) -> None:
    old = caller_hash_key(tmp_path, environ={})
    keys = rotate_caller_key(tmp_path, NOW, timedelta(days=30))
    assert keys.current != old and keys.previous == old
    assert caller_hash_key(tmp_path, environ={}) == keys.current  # new calls, new key
    during = caller_keys(tmp_path, environ={}, now=NOW + timedelta(days=29))
    assert during.previous == old
    assert during.hashes(NUMBER) == [caller_hash(keys.current, NUMBER), caller_hash(old, NUMBER)]
    after = caller_keys(tmp_path, environ={}, now=NOW + timedelta(days=30, seconds=1))
    assert after.previous is None and after.hashes(NUMBER) == [caller_hash(keys.current,
                                                                           NUMBER)]
    assert not (key_path(tmp_path).parent / PREVIOUS_FILE).exists()  # dropped for good


def test_rotate_key_command_keeps_recent_callers_recognised(tmp_path: Path,
                                                            monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("BALAGH_DATA_DIR", str(data))
    monkeypatch.delenv("BALAGH_CALLER_HASH_KEY", raising=False)
    old = caller_hash_key(data, environ={})
    now = datetime.now(UTC)
    database = data / "balagh.sqlite3"
    asyncio.run(_reports(database, old, [now - timedelta(days=40), now - timedelta(days=3)]))

    status, said = cli("callers", "rotate-key", "--yes")
    assert status == 0, said
    assert "1 report(s)" in said and "restart balagh" in said
    new = caller_hash_key(data, environ={})
    assert new != old
    new_hash = caller_hash(new, NUMBER)
    assert new_hash is not None
    # A new call from the number, hashed with the new key, finds the one of 3 days ago.
    assert asyncio.run(_calls_from(database, new_hash, now - timedelta(days=30))) == 1
    # The old key's hashes are gone from the window's reports.
    old_hash = caller_hash(old, NUMBER)
    assert old_hash is not None
    assert asyncio.run(_calls_from(database, old_hash, now - timedelta(days=30))) == 0


def test_the_app_start_drops_a_previous_key_whose_window_has_passed(tmp_path: Path) -> None:
    rotate_caller_key(tmp_path, datetime.now(UTC) - timedelta(days=31), timedelta(days=30))
    previous = key_path(tmp_path).parent / PREVIOUS_FILE
    assert previous.exists()
    caller_hash_key(tmp_path, environ={})  # what balagh run and the watchdog call
    assert not previous.exists()
