"""The prompt catalogue, sounds/prompts.yaml: the IVR script.

Each prompt id with its text in every language and a note for the voice artist.
A prompt may mix languages (an English word in an Arabic sentence): its text is
then a list of {language: text} parts, each spoken with its own language's voice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balagh.config.yamlsrc import YamlDoc, load_yaml

CATALOGUE_FILE = "prompts.yaml"  # in the sounds folder, next to <lang>/balagh/

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)?$")


@dataclass(frozen=True, slots=True)
class Part:
    """A stretch of text spoken in one language."""

    lang: str
    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    note: str
    text: dict[str, tuple[Part, ...]]  # caller's language -> what is said

    def spoken(self, lang: str) -> str:
        return " ".join(part.text for part in self.text[lang])


@dataclass(frozen=True, slots=True)
class Catalogue:
    path: Path
    languages: tuple[str, ...]
    voices: dict[str, str]  # language -> espeak-ng voice
    prompts: dict[str, Prompt]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.prompts)


# ------------------------------------------------------------------ loading


def load_catalogue(path: str | Path) -> Catalogue:
    """Load and check prompts.yaml; errors name the file, line and key."""
    doc = load_yaml(path)
    data = _mapping(doc, (), doc.data, "the catalogue")
    _no_unknown_keys(doc, (), data, {"languages", "voices", "prompts"})

    raw_languages = data.get("languages")
    if not isinstance(raw_languages, list) or not raw_languages:
        raise doc.error(("languages",), "expected a list of language codes, e.g. [ar, en]")
    languages: list[str] = []
    for index, lang in enumerate(raw_languages):
        if not isinstance(lang, str) or not _LANG.match(lang):
            raise doc.error(("languages", index), f"not a language code: {lang!r}")
        if lang in languages:
            raise doc.error(("languages", index), f"language {lang!r} listed twice")
        languages.append(lang)

    voices = {lang: lang for lang in languages}
    raw_voices = data.get("voices") or {}
    for lang, voice in _mapping(doc, ("voices",), raw_voices, "voices").items():
        if lang not in languages:
            raise doc.error(("voices", lang), f"language {lang!r} is not in languages")
        if not isinstance(voice, str) or not voice.strip():
            raise doc.error(("voices", lang), "expected an espeak-ng voice name")
        voices[lang] = voice.strip()

    raw_prompts = _mapping(doc, ("prompts",), data.get("prompts"), "prompts")
    if not raw_prompts:
        raise doc.error(("prompts",), "no prompts")
    prompts: dict[str, Prompt] = {}
    for prompt_id, body in raw_prompts.items():
        prompts[str(prompt_id)] = _prompt(doc, str(prompt_id), body, languages)
    return Catalogue(Path(path), tuple(languages), voices, prompts)


def _prompt(doc: YamlDoc, prompt_id: str, body: Any, languages: list[str]) -> Prompt:
    key = ("prompts", prompt_id)
    if not _ID.match(prompt_id):
        raise doc.error(key, "prompt ids are lower-case letters, digits and dashes")
    body = _mapping(doc, key, body, "a prompt")
    _no_unknown_keys(doc, key, body, {"note", "text"})
    note = body.get("note")
    if not isinstance(note, str) or not note.strip():
        raise doc.error((*key, "note"), "a note for the voice artist is required")
    texts = _mapping(doc, (*key, "text"), body.get("text"), "text per language")
    for lang in texts:
        if lang not in languages:
            raise doc.error((*key, "text", lang), f"language {lang!r} is not in languages")
    text: dict[str, tuple[Part, ...]] = {}
    for lang in languages:
        if lang not in texts:
            raise doc.error((*key, "text"), f"no text for language {lang!r}")
        text[lang] = _parts(doc, (*key, "text", lang), texts[lang], lang, languages)
    return Prompt(prompt_id, " ".join(note.split()), text)


def _parts(
    doc: YamlDoc, key: tuple[str | int, ...], value: Any, lang: str, languages: list[str]
) -> tuple[Part, ...]:
    if isinstance(value, str):
        if not value.strip():
            raise doc.error(key, "empty text")
        return (Part(lang, " ".join(value.split())),)
    if not isinstance(value, list) or not value:
        raise doc.error(key, "expected text, or a list of {language: text} parts")
    parts: list[Part] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or len(item) != 1:
            raise doc.error((*key, index), "each part is one {language: text} pair")
        [(part_lang, text)] = item.items()
        if part_lang not in languages:
            raise doc.error((*key, index), f"language {part_lang!r} is not in languages")
        if not isinstance(text, str) or not text.strip():
            raise doc.error((*key, index), "empty text")
        parts.append(Part(part_lang, " ".join(text.split())))
    return tuple(parts)


def _mapping(doc: YamlDoc, key: tuple[str | int, ...], value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(key, f"expected a mapping for {what}")
    return value


def _no_unknown_keys(
    doc: YamlDoc, key: tuple[str | int, ...], value: dict[str, Any], known: set[str]
) -> None:
    for name in value:
        if name not in known:
            raise doc.error((*key, str(name)), f"unknown key (expected one of {sorted(known)})")


def catalogue_path(sounds_dir: str | Path) -> Path:
    """Where a sounds folder keeps its catalogue."""
    return Path(sounds_dir) / CATALOGUE_FILE


__all__ = ["CATALOGUE_FILE", "Catalogue", "Part", "Prompt", "catalogue_path", "load_catalogue"]
