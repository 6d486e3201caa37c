"""Where prompt audio lives in a sounds folder, and how files get there.

Asterisk plays sound:balagh/<id> to a caller in <lang> from <sounds>/<lang>/balagh/<id>.wav.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from balagh.sounds.catalogue import Catalogue


def audio_path(sounds_dir: str | Path, lang: str, prompt_id: str) -> Path:
    """Where Asterisk finds sound:balagh/<id> for a caller in `lang`."""
    return Path(sounds_dir) / lang / "balagh" / f"{prompt_id}.wav"


def missing_audio(sounds_dir: str | Path, catalogue: Catalogue) -> list[Path]:
    """Prompt files the catalogue needs but the folder lacks."""
    return [
        path
        for prompt_id in catalogue.ids
        for lang in catalogue.languages
        if not (path := audio_path(sounds_dir, lang, prompt_id)).is_file()
    ]


def copy_atomic(source: Path, target: Path) -> None:
    """Copy so that a reader (Asterisk playing it) never sees a half-written file."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


__all__ = ["audio_path", "copy_atomic", "missing_audio"]


def prompt_seconds(sounds_dir: str | Path) -> dict[str, float]:
    """How long each prompt plays, in its longest language: a bound for waiting on it."""
    from balagh.sounds.wav import AudioError, inspect_wav

    longest: dict[str, float] = {}
    for path in Path(sounds_dir).glob("*/balagh/*.wav"):
        try:
            seconds = inspect_wav(path).duration
        except AudioError:
            continue  # `balagh sounds check` reports it; the guard's default applies
        longest[path.stem] = max(seconds, longest.get(path.stem, 0.0))
    return longest
