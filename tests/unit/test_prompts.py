"""The prompt catalogue and its placeholder audio."""

from __future__ import annotations

import argparse
import array
import csv
import io
import json
import math
import shutil
import sys
import wave
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from balagh.cli import sounds as sounds_cli
from balagh.cli.sounds import check_rows
from balagh.config import SOUNDS_DIR, Settings
from balagh.config.yamlsrc import ConfigError
from balagh.ivr.menu import load_menu
from balagh.routing import Table
from balagh.sounds import (
    MANIFEST,
    Catalogue,
    CheckRow,
    audio_path,
    generate,
    install_prompts,
    load_catalogue,
    missing_audio,
    prompts_needed,
    script,
)
from balagh.supervise import SUPERVISOR_PROMPTS

SOUNDS = SOUNDS_DIR
SHIPPED_IDS = tuple(load_catalogue(SOUNDS_DIR / "prompts.yaml").ids)  # in script order
N = len(SHIPPED_IDS)
LAST = SHIPPED_IDS[-1]
NEEDED = {
    "ask-language",
    "ask-danger",
    "ask-age",
    "ask-gender",
    "ask-emirate",
    "ask-condition",
    "invalid",
    "reference",
    "connecting",
    *(f"digit-{n}" for n in range(10)),
    *SUPERVISOR_PROMPTS,
}
needs_tools = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="needs espeak-ng and sox"
)

SMALL = """\
languages: [ar, en]
prompts:
  hello:
    note: test
    text: {ar: "مَرْحَبًا", en: "Hello"}
  choose:
    note: test
    text:
      ar: &choose
        - ar: "لِلْعَرَبِيَّةِ اِضْغَطْ وَاحِد"
        - en: "For English, press two"
      en: *choose
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SOUNDS / "prompts.yaml")


def write_catalogue(tmp_path: Path, text: str = SMALL) -> Catalogue:
    path = tmp_path / "prompts.yaml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path)


def assert_telephone_wav(path: Path) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2), path
        frames = wav.readframes(wav.getnframes())
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    assert len(samples) > 8000 // 10, f"{path}: shorter than 0.1 s"
    assert max(abs(s) for s in samples) > 8000, f"{path}: silent or nearly"


# ------------------------------------------------------------------ the catalogue


def test_catalogue_has_every_prompt_in_every_language(catalogue: Catalogue) -> None:
    assert NEEDED <= set(catalogue.ids)
    assert catalogue.languages == ("ar", "en")
    for prompt in catalogue.prompts.values():
        assert prompt.note
        assert set(prompt.text) == set(catalogue.languages)
        for lang in catalogue.languages:
            assert prompt.spoken(lang).strip()


def test_ask_language_is_bilingual_and_shared(catalogue: Catalogue) -> None:
    prompt = catalogue.prompts["ask-language"]
    assert prompt.text["ar"] == prompt.text["en"]
    assert [part.lang for part in prompt.text["ar"]] == ["ar", "en"]
    assert "English" in prompt.spoken("ar")


def test_digits_are_words(catalogue: Catalogue) -> None:
    assert catalogue.prompts["digit-0"].spoken("en") == "zero"
    assert catalogue.prompts["digit-9"].spoken("en") == "nine"
    assert not any(
        ch.isdigit() for n in range(10) for ch in catalogue.prompts[f"digit-{n}"].spoken("ar")
    )


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        (
            "languages: [ar, en]\nprompts:\n  hi:\n    note: n\n    text: {ar: x}\n",
            5,
            "prompts.hi.text",
        ),
        (
            "languages: [ar]\nprompts:\n  hi:\n    note: n\n"
            "    text:\n      ar:\n        - fr: x\n",
            7,
            "prompts.hi.text.ar[0]",
        ),
        (
            "languages: [ar]\nprompts:\n  Hi There:\n    note: n\n    text: {ar: x}\n",
            3,
            "prompts.Hi There",
        ),
        ("languages: [ar]\nprompts:\n  hi:\n    note: n\n    txt: {ar: x}\n", 5, "prompts.hi.txt"),
        ("languages: [ar]\nprompts:\n  hi:\n    text: {ar: x}\n", 3, "prompts.hi.note"),
        ("languages: [ar]\nvoices: {en: en}\nprompts: {}\n", 2, "voices.en"),
    ],
)
def test_catalogue_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        write_catalogue(tmp_path, text)
    assert caught.value.path.endswith("prompts.yaml")
    assert (caught.value.line, caught.value.key) == (line, key)


# ------------------------------------------------------------------ the committed audio


def test_committed_audio_is_complete_and_telephone_quality(catalogue: Catalogue) -> None:
    assert missing_audio(SOUNDS, catalogue) == []
    for prompt_id in catalogue.ids:
        for lang in catalogue.languages:
            assert_telephone_wav(audio_path(SOUNDS, lang, prompt_id))


@needs_tools
def test_committed_audio_is_up_to_date(tmp_path: Path, catalogue: Catalogue) -> None:
    # Editing prompts.yaml without regenerating would leave stale placeholders behind.
    copy = tmp_path / "sounds"
    shutil.copytree(SOUNDS, copy)
    assert generate(copy, catalogue) == []


# ------------------------------------------------------------------ generation


@needs_tools
def test_generate_then_skip(tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path)
    sounds = tmp_path / "sounds"
    made = generate(sounds, catalogue)
    assert sorted(made) == sorted(
        audio_path(sounds, lang, pid) for pid in ("hello", "choose") for lang in ("ar", "en")
    )
    for path in made:
        assert_telephone_wav(path)
    # The bilingual prompt is one recording in both folders.
    choose = [audio_path(sounds, lang, "choose").read_bytes() for lang in ("ar", "en")]
    assert choose[0] == choose[1]
    manifest = json.loads((sounds / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert set(manifest) == {
        "ar/balagh/hello.wav",
        "en/balagh/hello.wav",
        "ar/balagh/choose.wav",
        "en/balagh/choose.wav",
    }

    assert generate(sounds, catalogue) == []
    assert generate(sounds, catalogue, force=True) == made


@needs_tools
def test_changed_text_regenerates_only_our_own_files(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    generate(sounds, write_catalogue(tmp_path))
    studio = audio_path(sounds, "ar", "hello")
    studio.write_bytes(b"RIFF studio recording")  # dropped in by hand

    changed = write_catalogue(
        tmp_path, SMALL.replace("Hello", "Good morning").replace("مَرْحَبًا", "صَبَاحُ الْخَيْر")
    )
    assert generate(sounds, changed) == [audio_path(sounds, "en", "hello")]
    assert studio.read_bytes() == b"RIFF studio recording"
    assert generate(sounds, changed, force=True).count(studio) == 0
    assert studio.read_bytes() == b"RIFF studio recording"
    manifest = json.loads((sounds / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert "ar/balagh/hello.wav" not in manifest


@needs_tools
def test_file_without_manifest_entry_is_never_overwritten(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    foreign = audio_path(sounds, "en", "hello")
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"not ours")
    made = generate(sounds, write_catalogue(tmp_path), force=True)
    assert foreign not in made and len(made) == 3
    assert foreign.read_bytes() == b"not ours"


@needs_tools
def test_deleted_file_is_made_again(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    catalogue = write_catalogue(tmp_path)
    generate(sounds, catalogue)
    gone = audio_path(sounds, "en", "hello")
    gone.unlink()
    assert generate(sounds, catalogue) == [gone]
    assert_telephone_wav(gone)


# ------------------------------------------------------------------ check


def write_wav(path: Path, *, seconds: float = 1.0, amplitude: float = 0.3,
              rate: int = 8000, square: bool = False) -> None:
    full = 32768
    samples = array.array("h")
    for n in range(round(seconds * rate)):
        value = math.sin(2 * math.pi * 440 * n / rate)
        if square:
            value = 1.0 if value >= 0 else -1.0
        samples.append(max(-full, min(full - 1, round(amplitude * value * full))))
    if sys.byteorder == "big":
        samples.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


@pytest.fixture
def sounds_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sounds"
    shutil.copytree(SOUNDS, copy)
    return copy


def shipped_settings(**changes: Path) -> Settings:
    return replace(Settings(), **changes)


def statuses(rows: list[CheckRow]) -> dict[tuple[str, str], str]:
    return {(row.prompt_id, row.lang): row.status for row in rows if not row.ok}


def test_check_passes_on_the_shipped_tree() -> None:
    rows = check_rows(shipped_settings())
    assert rows and all(row.ok for row in rows), [row for row in rows if not row.ok]
    assert {(pid, lang) for pid in NEEDED for lang in ("ar", "en")} <= {
        (row.prompt_id, row.lang) for row in rows
    }
    for row in rows:
        assert row.info is not None and 0.2 < row.info.duration < 60


def test_prompts_needed_follow_the_menu_and_the_flow() -> None:
    menu = load_menu(Settings().ivr_file)
    needed = prompts_needed(menu)
    assert needed[:7] == ["ask-language", "ask-danger", "ask-age", "ask-gender",
                          "ask-emirate", "ask-condition", "invalid"]
    assert set(needed) == NEEDED
    # A routing table that announces something adds it, once, as method or attribute.
    with_method = SimpleNamespace(prompts_used=lambda: ["closed-tonight", "invalid"])
    assert prompts_needed(menu, with_method)[-1] == "closed-tonight"
    assert prompts_needed(menu, SimpleNamespace(prompts_used=("closed-tonight",)))[-1] == (
        "closed-tonight"
    )
    assert prompts_needed(menu, object()) == needed


def test_check_names_each_problem(sounds_copy: Path) -> None:
    write_wav(audio_path(sounds_copy, "ar", "ask-danger"), amplitude=0.0)
    write_wav(audio_path(sounds_copy, "en", "ask-age"), rate=44100)
    audio_path(sounds_copy, "en", "invalid").unlink()
    write_wav(audio_path(sounds_copy, "ar", "connecting"), amplitude=1.0, square=True)
    write_wav(audio_path(sounds_copy, "en", "digit-7"), seconds=0.1)
    audio_path(sounds_copy, "ar", "digit-8").write_bytes(b"not a wav at all")

    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    assert statuses(rows) == {
        ("ask-danger", "ar"): "SILENT",
        ("ask-age", "en"): "BAD FORMAT",
        ("invalid", "en"): "MISSING",
        ("connecting", "ar"): "CLIPPED",
        ("digit-7", "en"): "TOO SHORT",
        ("digit-8", "ar"): "BAD FORMAT",
    }
    by_key = {(row.prompt_id, row.lang): row for row in rows}
    assert "44100 Hz" in by_key["ask-age", "en"].detail
    assert "not a PCM WAV" in by_key["digit-8", "ar"].detail
    assert by_key["invalid", "en"].info is None


def test_check_fails_on_a_missing_language_folder(sounds_copy: Path) -> None:
    shutil.rmtree(sounds_copy / "en")
    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    bad = statuses(rows)
    assert set(bad.values()) == {"MISSING"}
    assert {lang for _, lang in bad} == {"en"}
    assert len(bad) == len(rows) // 2


def test_check_fails_on_a_menu_language_the_catalogue_lacks(tmp_path: Path) -> None:
    # French offered on the keypad, but neither scripted nor recorded.
    menu = Settings().ivr_file.read_text(encoding="utf-8")
    menu = menu.replace("languages: [ar, en]", "languages: [ar, en, fr]")
    menu = menu.replace("      2: en\n", "      2: en\n      3: fr\n", 1)
    ivr = tmp_path / "ivr.yaml"
    ivr.write_text(menu, encoding="utf-8")
    rows = check_rows(shipped_settings(ivr_file=ivr))
    bad = statuses(rows)
    assert set(bad.values()) == {"NOT IN CATALOGUE, MISSING"}
    assert {pid for pid, _ in bad} >= NEEDED
    assert {lang for _, lang in bad} == {"fr"}


def test_check_flags_prompts_that_are_not_in_the_catalogue(
    sounds_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A recording for a prompt that routing plays but nobody scripted: still not ok.
    monkeypatch.setattr(Table, "prompts_used", lambda self: ("closed-tonight",), raising=False)
    write_wav(audio_path(sounds_copy, "ar", "closed-tonight"))
    rows = check_rows(shipped_settings(sounds_dir=sounds_copy))
    assert statuses(rows) == {
        ("closed-tonight", "ar"): "NOT IN CATALOGUE",
        ("closed-tonight", "en"): "NOT IN CATALOGUE, MISSING",
    }


def test_check_command_prints_a_table_and_a_summary(
    sounds_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(strict=False)
    assert sounds_cli._check(shipped_settings(), args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "lang", "seconds", "RMS", "dBFS", "peak", "dBFS", "voice",
                              "status"]
    # The table, one line per language with the whole menu's length, the summary.
    assert out[-3].startswith("ar: the whole menu heard to the end takes ")
    assert out[-3].endswith("(budget 45 s): ok") and out[-2].startswith("en: ")
    files = len(out) - 4
    assert out[-1] == (f"{files} prompt files ok, {files} of them synthetic placeholders "
                       "(warning)")

    write_wav(audio_path(sounds_copy, "en", "ask-age"), amplitude=0.0)
    audio_path(sounds_copy, "ar", "reference").unlink()
    assert sounds_cli._check(shipped_settings(sounds_dir=sounds_copy), args) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.split()[:2] == ["reference", "ar"] and line.endswith("MISSING")
               for line in out)
    assert any(line.split()[:2] == ["ask-age", "en"] and "-inf" in line for line in out)
    assert out[-1].startswith(f"2 of {2 * N} prompt files have problems: ")
    assert "en/ask-age SILENT (RMS -inf dBFS)" in out[-1]
    assert "ar/reference MISSING" in out[-1]


# ------------------------------------------------------------------ install


def test_install_copies_every_language(tmp_path: Path) -> None:
    target = tmp_path / "asterisk-sounds"
    (target / "en_US_f_Allison").mkdir(parents=True)
    (target / "en").symlink_to("en_US_f_Allison")  # as Debian ships it
    old = target / "ar" / "balagh" / "invalid.wav"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an older prompt")
    foreign = target / "ar" / "balagh" / "site-own.wav"
    foreign.write_bytes(b"not ours")

    written = install_prompts(SOUNDS, target)

    ours = sorted(SOUNDS.glob("*/balagh/*.wav"))
    assert len(written) == len(ours) == 2 * N
    for source in ours:
        lang = source.parent.parent.name
        dest = target / lang / "balagh" / source.name
        assert dest in written
        assert dest.read_bytes() == source.read_bytes()
    assert (target / "en_US_f_Allison" / "balagh" / "digit-1.wav").is_file()
    assert (target / "en").is_symlink()
    assert foreign.read_bytes() == b"not ours"
    assert not list(target.rglob("*.tmp"))
    # Again: same result, nothing in the way.
    assert install_prompts(SOUNDS, target) == written


def test_install_resolves_through_a_chroot(tmp_path: Path) -> None:
    # Inside a chroot, sounds/en -> /etc/alternatives/... means the chroot's /etc.
    root = tmp_path / "root"
    real = root / "usr/share/asterisk/sounds/en_US_f_Allison"
    real.mkdir(parents=True)
    sounds = root / "usr/share/asterisk/sounds"
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        install_prompts(SOUNDS, sounds)

    def resolve(path: Path) -> Path:
        return real if path.name == "en" else path

    written = install_prompts(SOUNDS, sounds, resolve=resolve)
    assert real / "balagh" / "ask-age.wav" in written
    assert (sounds / "ar" / "balagh" / "ask-age.wav").is_file()


def test_install_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(to=str(tmp_path / "out"))
    assert sounds_cli._install(shipped_settings(), args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"installed {N} prompt file(s) in {tmp_path / 'out' / 'ar' / 'balagh'}",
        f"installed {N} prompt file(s) in {tmp_path / 'out' / 'en' / 'balagh'}",
        f"{2 * N} prompt file(s) installed under {tmp_path / 'out'}",
    ]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "en").symlink_to("/nonexistent/balagh-test")
    args = argparse.Namespace(to=str(tmp_path / "bad"))
    assert sounds_cli._install(shipped_settings(), args) == 1
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------ script


def test_script_numbers_every_prompt(catalogue: Catalogue) -> None:
    lines = script(catalogue, "ar")
    assert [line.number for line in lines] == list(range(1, len(catalogue.ids) + 1))
    assert [line.prompt_id for line in lines] == list(catalogue.ids)
    first = lines[0]
    assert (first.prompt_id, first.file) == ("ask-language", "ar/balagh/ask-language.wav")
    # The bilingual prompt says which voice reads which half.
    assert first.text.startswith("[ar] لِلْعَرَبِيَّةِ") and "[en] For English" in first.text
    danger = next(line for line in lines if line.prompt_id == "ask-danger")
    assert danger.text.startswith("هَلْ أَحَدٌ") and "[" not in danger.text
    assert danger.note == catalogue.prompts["ask-danger"].note
    with pytest.raises(ValueError, match="fr"):
        script(catalogue, "fr")


def test_script_command_text(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(lang="en", format="text", output=None)
    assert sounds_cli._script(shipped_settings(), args) == 0
    out = capsys.readouterr().out
    assert " 2. ask-danger  ->  en/balagh/ask-danger.wav\n" in out
    assert "    Is someone in danger now? Yes, press 1. No, press 2.\n" in out
    assert "20. digit-9  ->  en/balagh/digit-9.wav\n" in out
    assert f"{N}. {LAST}  ->  en/balagh/{LAST}.wav\n" in out

    args = argparse.Namespace(lang="xx", format="text", output=None)
    assert sounds_cli._script(shipped_settings(), args) == 2
    assert "ar, en" in capsys.readouterr().err


def test_script_command_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            catalogue: Catalogue) -> None:
    output = tmp_path / "script-ar.csv"
    args = argparse.Namespace(lang="ar", format="csv", output=str(output))
    assert sounds_cli._script(shipped_settings(), args) == 0
    assert capsys.readouterr().out == f"{N} prompts written to {output}\n"
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # so a spreadsheet reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["number", "id", "file", "text", "note"]
    assert len(rows) == 1 + len(catalogue.ids)
    assert rows[2][:3] == ["2", "ask-danger", "ar/balagh/ask-danger.wav"]
    assert rows[2][3] == catalogue.prompts["ask-danger"].spoken("ar")
    assert rows[20][:2] == ["20", "digit-9"] and rows[20][3] == "تِسْعَة"
    assert rows[-1][:2] == [str(N), LAST]
