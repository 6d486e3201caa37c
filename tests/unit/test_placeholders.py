"""The espeak-ng prompts are told apart from recordings by their bytes (the sha256 that
`balagh sounds generate` keeps in sounds/.generated.json): a voice artist's file that
replaces one counts as real; `sounds check` says how many are left, --strict refuses them."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from balagh.cli import sounds as sounds_cli
from balagh.cli.sounds import check_rows
from balagh.sounds import audio_path
from balagh.sounds.synth import MANIFEST, placeholder_hashes

from .test_prompts import SOUNDS, shipped_settings, write_wav


@pytest.fixture
def sounds_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sounds"
    shutil.copytree(SOUNDS, copy)
    return copy


def check(sounds_dir: Path, strict: bool, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = sounds_cli._check(shipped_settings(sounds_dir=sounds_dir),
                               argparse.Namespace(strict=strict))
    return status, capsys.readouterr().out.splitlines()[-1]


def test_the_shipped_prompts_are_all_placeholders(sounds_copy: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    assert rows and all(row.placeholder for row in rows)
    assert check(sounds_copy, False, capsys) == (
        0, f"{len(rows)} prompt files ok, {len(rows)} of them synthetic placeholders (warning)")
    assert check(sounds_copy, True, capsys) == (
        1, f"{len(rows)} prompt files ok, {len(rows)} of them synthetic placeholders (error)")


def test_a_recording_dropped_in_counts_as_real(sounds_copy: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_wav(audio_path(sounds_copy, "ar", "ask-age"))  # the voice artist's file
    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    real = [(row.prompt_id, row.lang) for row in rows if not row.placeholder]
    assert real == [("ask-age", "ar")]
    status, summary = check(sounds_copy, False, capsys)
    assert status == 0 and f"{len(rows) - 1} of them synthetic placeholders" in summary


def test_all_recorded_passes_strict(sounds_copy: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for path in sounds_copy.glob("*/balagh/*.wav"):
        write_wav(path)
    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    assert check(sounds_copy, True, capsys) == (0, f"{len(rows)} prompt files ok")


def test_a_copy_is_still_known_by_its_bytes(sounds_copy: Path, tmp_path: Path) -> None:
    # What `sounds install` put in Asterisk's folder: the same bytes, another place.
    hashes = placeholder_hashes(sounds_copy)
    assert len(hashes) > 1
    (sounds_copy / MANIFEST).write_text("not json", encoding="utf-8")
    assert placeholder_hashes(sounds_copy) == frozenset()  # unreadable: nothing is ours
    assert placeholder_hashes(tmp_path / "nowhere") == frozenset()
