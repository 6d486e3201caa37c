"""The catalogue as a numbered recording script for a voice artist."""

from __future__ import annotations

from dataclasses import dataclass

from balagh.sounds.catalogue import Catalogue, Part
from balagh.sounds.files import audio_path


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One line of the voice artist's script."""

    number: int
    prompt_id: str
    file: str  # <lang>/balagh/<id>.wav, relative to sounds/
    text: str
    note: str


def script(catalogue: Catalogue, lang: str) -> list[ScriptLine]:
    """The catalogue as a numbered recording script for one language."""
    if lang not in catalogue.languages:
        known = ", ".join(catalogue.languages)
        raise ValueError(f"no language {lang!r} in the catalogue (it has {known})")
    return [
        ScriptLine(
            number,
            prompt.id,
            audio_path("", lang, prompt.id).as_posix(),
            _script_text(prompt.text[lang], lang),
            prompt.note,
        )
        for number, prompt in enumerate(catalogue.prompts.values(), start=1)
    ]


def _script_text(parts: tuple[Part, ...], lang: str) -> str:
    # A mixed-language prompt says which voice reads which part.
    if all(part.lang == lang for part in parts):
        return " ".join(part.text for part in parts)
    return " ".join(f"[{part.lang}] {part.text}" for part in parts)


__all__ = ["ScriptLine", "script"]
