"""`balagh health`'s prompts line, against a PBX tree laid out in a temporary folder the
way the sandbox's chroot is (installed.stamp, root/usr/sbin/asterisk, its own asterisk.conf,
/etc/passwd and /etc/group): present, readable by Asterisk's user, recorded or not."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from balagh.cli import main
from balagh.config import SOUNDS_DIR, Settings
from balagh.health.prompts import pbx_sounds, prompts_check
from balagh.health.report import Status
from balagh.sounds import install_prompts

from .test_prompts import write_wav

UID = 4242  # Asterisk's user in the tree: not us, so mode bits decide


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Path]:
    """A FreePBX-like tree: astdatadir /var/lib/asterisk, the prompts installed in it."""
    # Made as on a PBX, umask 022: an earlier command in this process may have set
    # Balagh's private 077.
    umask = os.umask(0o022)
    try:
        yield _tree(tmp_path)
    finally:
        os.umask(umask)


def _tree(tmp_path: Path) -> Path:
    pbx_dir = tmp_path / "sandbox"
    root = pbx_dir / "root"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/asterisk").write_bytes(b"")
    (pbx_dir / "installed.stamp").write_text("", encoding="utf-8")
    (root / "etc/asterisk").mkdir(parents=True)
    (root / "etc/asterisk/asterisk.conf").write_text(
        "[directories](!)\nastdatadir => /var/lib/asterisk ; FreePBX\n"
        "[options]\n;runuser = nobody\n", encoding="utf-8")
    (root / "etc/passwd").write_text(f"root:x:0:0::/root:/bin/sh\nasterisk:x:{UID}:{UID}:"
                                     ":/var/lib/asterisk:/usr/sbin/nologin\n", encoding="utf-8")
    (root / "etc/group").write_text(f"root:x:0:\nasterisk:x:{UID}:\naudio:x:29:asterisk\n",
                                    encoding="utf-8")
    install_prompts(SOUNDS_DIR, root / "var/lib/asterisk/sounds")
    return pbx_dir


def settings_for(pbx_dir: Path) -> Settings:
    return replace(Settings(), pbx_dir=pbx_dir)


def prompt(pbx_dir: Path, name: str) -> Path:
    return pbx_dir / "root/var/lib/asterisk/sounds" / name


def test_the_folder_comes_from_asterisk_conf_and_placeholders_warn(pbx: Path) -> None:
    settings = settings_for(pbx)
    where = pbx_sounds(settings)
    assert (where.sounds, where.user) == ("/var/lib/asterisk/sounds", "asterisk")
    check = prompts_check(settings, where)
    total = check.data["prompts"]
    assert check.status is Status.DEGRADED and total > 100
    assert check.summary == (
        f"{total} prompts in {pbx}/root/var/lib/asterisk/sounds (the sandbox's asterisk.conf), "
        f"readable by asterisk; {total} of them synthetic placeholders (espeak-ng): record "
        "them (docs/voice-artists.md)")


def test_recordings_everywhere_are_ok(pbx: Path) -> None:
    for path in (pbx / "root/var/lib/asterisk/sounds").glob("*/balagh/*.wav"):
        write_wav(path)
    check = prompts_check(settings_for(pbx), pbx_sounds(settings_for(pbx)))
    assert check.status is Status.OK and check.data["placeholders"] == 0
    assert "synthetic" not in check.summary


def test_a_file_or_folder_asterisk_cannot_read_is_named(pbx: Path) -> None:
    os.chmod(prompt(pbx, "ar/balagh/ask-age.wav"), 0o600)  # ours (root), not Asterisk's
    check = prompts_check(settings_for(pbx), pbx_sounds(settings_for(pbx)))
    assert check.status is Status.DEGRADED
    assert check.data["unreadable"] == [
        f"ar/balagh/ask-age.wav: file {prompt(pbx, 'ar/balagh/ask-age.wav')} is mode 0600, "
        "uid 0 gid 0"]
    assert "1 of " in check.summary and "not readable by asterisk" in check.summary

    os.chmod(prompt(pbx, "ar/balagh/ask-age.wav"), 0o640)
    os.chown(prompt(pbx, "ar/balagh/ask-age.wav"), 0, 29)  # group audio: asterisk is in it
    os.chmod(prompt(pbx, "en/balagh"), 0o700)
    check = prompts_check(settings_for(pbx), pbx_sounds(settings_for(pbx)))
    locked = check.data["unreadable"]
    assert locked and all(line.startswith("en/") and "folder" in line for line in locked)


def test_a_missing_prompt_says_how_to_install(pbx: Path) -> None:
    prompt(pbx, "en/balagh/reference.wav").unlink()
    check = prompts_check(settings_for(pbx), pbx_sounds(settings_for(pbx)))
    assert check.data["missing"] == ["en/balagh/reference.wav"]
    assert check.summary.startswith(f"1 of {check.data['prompts']} prompts missing in ")
    assert "balagh sounds install --to /var/lib/asterisk/sounds" in check.summary


def test_the_command_has_a_prompts_line(pbx: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BALAGH_PBX_DIR", str(pbx))
    monkeypatch.setenv("BALAGH_DATA_DIR", str(pbx))
    assert main(["health", "--only", "prompts"]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.split()[:2] == ["prompts", "warn"] and "synthetic placeholders" in line
    empty = pbx / "empty"
    empty.mkdir()
    assert main(["health", "--only", "prompts", "--pbx-sounds", str(empty)]) == 1
    assert f"prompts missing in {empty} (--pbx-sounds)" in capsys.readouterr().out
