"""config/supervisors.yaml: good fixtures load, bad ones fail at file:line: key; save."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.config import CONFIG_DIR, Settings, load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.supervise import (
    Supervisor,
    SupervisorTable,
    hash_pin,
    load_supervisors,
    save_supervisors,
    verify_pin,
)

from .shipped import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "supervisors"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
QUEUES = frozenset({"child-protection", "women-protection", "general"})


def expected_error(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^# expect-(line|key|message):[ ]?(.*)$", path.read_text(), re.M))


def test_good_fixture() -> None:
    path = FIXTURES / "good" / "two.yaml"
    table = load_supervisors(path, QUEUES)
    assert (table.lockout_attempts, table.lockout_minutes, table.source) == (3, 10.0, path)
    amina, omar = table.supervisors
    assert amina.name == "Amina" and amina.phones == {"201", "PJSIP/sup1"}
    assert amina.queues == {"child-protection", "women-protection"}
    assert verify_pin("2468", amina.pin_hash) and not verify_pin("2469", amina.pin_hash)
    assert omar.queues is None and verify_pin("13579", omar.pin_hash)


@pytest.mark.parametrize("name", ["empty.yaml", "blank.yaml", "no-such-file.yaml"])
def test_nobody_may_monitor_by_default(name: str) -> None:
    table = load_supervisors(FIXTURES / "good" / name)
    assert table.supervisors == () and table.find("201") is None
    assert (table.lockout_attempts, table.lockout_minutes) == (5, 15.0)


def test_the_shipped_file_has_no_supervisors() -> None:
    table = load_supervisors(CONFIG_DIR / "supervisors.yaml", QUEUES)
    assert table.supervisors == ()
    assert Settings().supervisors_file == CONFIG_DIR / "supervisors.yaml"
    assert load_settings().supervisors_file == CONFIG_DIR / "supervisors.yaml"


def test_the_setting_comes_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(environ={"BALAGH_SUPERVISORS_FILE": str(tmp_path / "s.yaml")})
    assert settings.supervisors_file == tmp_path / "s.yaml"


@pytest.mark.parametrize("path", BAD, ids=lambda path: path.stem)
def test_bad_fixture_fails_at_its_line(path: Path) -> None:
    expected = expected_error(path)
    assert set(expected) == {"line", "key", "message"}, f"{path.name}: header incomplete"
    with pytest.raises(ConfigError) as caught:
        load_supervisors(path, QUEUES)
    error = caught.value
    assert (error.line, error.key) == (int(expected["line"]), expected["key"])
    assert expected["message"] in error.message
    assert str(error).startswith(f"{path}:{expected['line']}: ")


def test_queues_are_only_checked_when_known() -> None:
    table = load_supervisors(FIXTURES / "bad" / "unknown-queue.yaml")
    assert table.supervisors[0].queues == {"women-protection", "child-protecton"}


def test_fixture_set_is_not_empty() -> None:
    assert len(BAD) >= 10


def test_save_then_load_round_trip(tmp_path: Path) -> None:
    table = SupervisorTable((
        Supervisor("Amina", frozenset({"201", "PJSIP/sup1"}), hash_pin("73915284"),
                   frozenset({"child-protection"})),
        Supervisor("أَمِينَة", frozenset({"202"}), hash_pin("40617253"), None),
    ), lockout_attempts=4, lockout_minutes=7.5)
    path = tmp_path / "conf" / "supervisors.yaml"
    save_supervisors(table, path)
    assert load_supervisors(path, QUEUES) == replace(table, source=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Supervisors who may listen in")
    assert "balagh supervisors passwd NAME" in text and "hashes" in text
    # 8 digits: a 4-digit PIN could turn up in the base64 of a hash by chance
    assert "73915284" not in text and "40617253" not in text
    assert [p.name for p in path.parent.iterdir()] == ["supervisors.yaml"]  # no temp left


def test_save_replaces_a_file_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "supervisors.yaml"
    path.write_text("supervisors: []\n")
    path.chmod(0o644)
    save_supervisors(SupervisorTable(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # others lose it; the group keeps it
    assert load_supervisors(path).supervisors == ()


def test_save_keeps_the_files_owner_group_and_group_read(tmp_path: Path) -> None:
    """The Debian package's /etc/balagh/supervisors.yaml is 0640 root:balagh: `balagh
    supervisors add` run as root must leave the service able to read it."""
    path = tmp_path / "supervisors.yaml"
    path.write_text("supervisors: []\n")
    path.chmod(0o640)
    group = 1 if os.geteuid() == 0 else path.stat().st_gid  # root can give it away
    if os.geteuid() == 0:
        os.chown(path, 2, group)
    before = path.stat()
    save_supervisors(SupervisorTable(), path)
    after = path.stat()
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
