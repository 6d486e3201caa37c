"""The prompt catalogue (sounds/prompts.yaml) and its placeholder audio.

The catalogue is the IVR script: each prompt id with its text in every
language and a note for the voice artist. Until a studio records them,
`generate` makes placeholders with espeak-ng and sox, as Asterisk likes them
(8 kHz, mono, signed 16-bit WAV), at sounds/<lang>/balagh/<id>.wav.

Recordings dropped in by hand are never overwritten: sounds/.generated.json
remembers what we made (hash of the text it came from, hash of the file),
and only files that are missing, or still exactly our own output, are
(re)generated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from balagh.yamlsrc import YamlDoc, load_yaml

log = structlog.get_logger()

MANIFEST = ".generated.json"
SPEED_WPM = 150  # espeak-ng's default 175 is hurried for a distressed caller on a phone line
PART_GAP = 0.4  # seconds of silence between the parts of a mixed-language prompt
# 8 kHz mono signed 16-bit: Asterisk's native slin, no transcoding at playback.
_SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
_SOX_TRIM = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse"]

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


# ------------------------------------------------------------------- audio


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


def generate(sounds_dir: str | Path, catalogue: Catalogue, *, force: bool = False) -> list[Path]:
    """Make placeholder audio for every prompt that needs it; return the files written.

    Needs it: the file is missing, or it is our own earlier output and its text
    (or voice) has changed since. `force` remakes all of our own output too.
    Anything else on disk is somebody's recording and is left alone.
    """
    sounds_dir = Path(sounds_dir)
    manifest_path = sounds_dir / MANIFEST
    manifest = _read_manifest(manifest_path)
    before = dict(manifest)
    written: list[Path] = []
    made: dict[str, Path] = {}  # source hash -> a file made in this run, to copy not resynth
    try:
        for prompt_id, prompt in catalogue.prompts.items():
            for lang in catalogue.languages:
                path = audio_path(sounds_dir, lang, prompt_id)
                key = path.relative_to(sounds_dir).as_posix()
                parts = prompt.text[lang]
                source = _source_hash(parts, catalogue.voices)
                entry = manifest.get(key)
                if path.exists():
                    if entry is None or entry.get("audio") != _file_hash(path):
                        # Not (or no longer) ours: a recording. Forget any stale claim on it.
                        if manifest.pop(key, None) is not None:
                            log.info("prompts.recording_kept", path=str(path))
                        continue
                    if entry.get("text") == source and not force:
                        continue
                path.parent.mkdir(parents=True, exist_ok=True)
                if source in made:
                    _copy_atomic(made[source], path)
                else:
                    _synthesize(parts, catalogue.voices, path)
                    made[source] = path
                manifest[key] = {"text": source, "audio": _file_hash(path)}
                written.append(path)
                log.info("prompts.generated", path=str(path))
    finally:
        # Forget files that are gone, and save even after a failure half way.
        for key in [key for key in manifest if not (sounds_dir / key).exists()]:
            del manifest[key]
        if manifest != before or not manifest_path.exists():
            _write_manifest(manifest_path, manifest)
    return written


def _source_hash(parts: Iterable[Part], voices: dict[str, str]) -> str:
    spoken = [[part.lang, voices[part.lang], part.text] for part in parts]
    return _sha256(json.dumps(spoken, ensure_ascii=False).encode("utf-8"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str:
    return _sha256(path.read_bytes())


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # Losing the manifest only makes us more careful: nothing looks like ours.
        log.warning("prompts.manifest_unreadable", path=str(path), error=str(exc))
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return dict(files) if isinstance(files, dict) else {}


def _write_manifest(path: Path, files: dict[str, dict[str, str]]) -> None:
    body = {
        "about": "Prompt audio generated by `balagh sounds generate` (espeak-ng + sox). "
        "A file whose hash differs from its entry is a recording and is never overwritten.",
        "files": dict(sorted(files.items())),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _copy_atomic(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install it (Debian: apt-get install {name})")
    return found


def _synthesize(parts: tuple[Part, ...], voices: dict[str, str], target: Path) -> None:
    """espeak-ng each part with its language's voice, trim, join, normalise, 8 kHz."""
    espeak, sox = _tool("espeak-ng"), _tool("sox")
    with tempfile.TemporaryDirectory(prefix="balagh-prompt-") as tmp:
        pieces: list[str] = []
        for index, part in enumerate(parts):
            speech = _run(
                [espeak, "-v", voices[part.lang], "-s", str(SPEED_WPM), "--stdout", "--stdin"],
                part.text.encode("utf-8"),
            )
            piece = str(Path(tmp) / f"{index}.wav")
            gap = ["pad", "0", str(PART_GAP)] if index < len(parts) - 1 else []
            # -R: repeatable output, so regenerating unchanged text gives the same bytes.
            _run([sox, "-R", "-t", "wav", "-", *_SOX_FORMAT, piece, *_SOX_TRIM, *gap], speech)
            pieces.append(piece)
        out = target.with_name(f".{target.name}.tmp")
        _run([sox, "-R", *pieces, *_SOX_FORMAT, "-t", "wav", str(out), "norm", "-3"])
        os.replace(out, target)


def _run(command: list[str], stdin: bytes | None = None) -> bytes:
    result = subprocess.run(command, input=stdin, capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        error = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}): {error}")
    return result.stdout


__all__ = [
    "MANIFEST",
    "Catalogue",
    "Part",
    "Prompt",
    "audio_path",
    "generate",
    "load_catalogue",
    "missing_audio",
]
