"""The prompt catalogue and its placeholder audio."""

from __future__ import annotations

import array
import json
import shutil
import sys
import wave
from pathlib import Path

import pytest

from balagh.prompts import (
    MANIFEST,
    Catalogue,
    audio_path,
    generate,
    load_catalogue,
    missing_audio,
)
from balagh.yamlsrc import ConfigError

SOUNDS = Path(__file__).resolve().parents[2] / "sounds"
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
