"""The prompt catalogue (sounds/prompts.yaml) and its placeholder audio.

The catalogue is the IVR script: each prompt id with its text in every
language and a note for the voice artist. Until a studio records them,
`generate` makes placeholders with espeak-ng and sox, as Asterisk likes them
(8 kHz, mono, signed 16-bit WAV), at sounds/<lang>/balagh/<id>.wav.

Recordings dropped in by hand are never overwritten: sounds/.generated.json
remembers what we made (hash of the text it came from, hash of the file),
and only files that are missing, or still exactly our own output, are
(re)generated.

Around the audio: `check_prompts` judges every prompt a call can play in every
language (present, in the catalogue, in Asterisk's format, audible, not
clipped), `install_prompts` copies them to a PBX's sounds folder, and `script`
is the catalogue as a numbered script for the voice artist.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from balagh.audio import (
    BAD_FORMAT,
    CLIPPED,
    SILENT,
    TOO_LONG,
    TOO_SHORT,
    AudioError,
    WavInfo,
    inspect_wav,
)
from balagh.audio import problems as audio_problems
from balagh.ivr.menu import Menu
from balagh.ivr.say import DIGIT_PROMPTS, FLOW_PROMPTS
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


# ------------------------------------------------------------------- check

MISSING = "MISSING"
NOT_IN_CATALOGUE = "NOT IN CATALOGUE"


@dataclass(frozen=True, slots=True)
class CheckRow:
    """One prompt in one language, as `balagh sounds check` judges it."""

    prompt_id: str
    lang: str
    path: Path
    problems: tuple[str, ...]
    info: WavInfo | None = None  # None when the file is missing or unreadable
    detail: str = ""  # what exactly is wrong, for the summary line

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        return ", ".join(self.problems) or "ok"


def prompts_needed(menu: Menu, table: object | None = None) -> list[str]:
    """Every prompt id a call can play, in the order a caller meets them.

    The menu's questions and its invalid prompt, the flow's own prompts and the
    digits, and whatever the routing table announces: a Table that offers
    `prompts_used` (a method or an attribute) is asked; one that does not, is not.
    """
    ids = [question.prompt for question in menu.questions]
    ids += [menu.invalid_prompt, *FLOW_PROMPTS, *DIGIT_PROMPTS]
    used = getattr(table, "prompts_used", None)
    if used is not None:
        ids += list(used() if callable(used) else used)
    return list(dict.fromkeys(ids))


def check_prompts(
    sounds_dir: str | Path,
    catalogue: Catalogue,
    needed: Iterable[str] = (),
    languages: Iterable[str] = (),
) -> list[CheckRow]:
    """Judge every catalogue prompt and every `needed` one, in every language.

    The languages are the catalogue's plus `languages` (the menu's): a caller
    may pick any of those, so each needs text in the catalogue and a good file.
    """
    ids = list(dict.fromkeys([*catalogue.ids, *needed]))
    langs = list(dict.fromkeys([*catalogue.languages, *languages]))
    return [
        _check_one(Path(sounds_dir), catalogue, prompt_id, lang)
        for prompt_id in ids
        for lang in langs
    ]


def _check_one(sounds_dir: Path, catalogue: Catalogue, prompt_id: str, lang: str) -> CheckRow:
    path = audio_path(sounds_dir, lang, prompt_id)
    found: list[str] = []
    details: list[str] = []
    prompt = catalogue.prompts.get(prompt_id)
    if prompt is None or lang not in prompt.text:
        found.append(NOT_IN_CATALOGUE)
        details.append(f"no {lang} text in {catalogue.path.name}")
    if not path.is_file():
        return CheckRow(prompt_id, lang, path, (*found, MISSING), None, "; ".join(details))
    try:
        info = inspect_wav(path)
    except AudioError as exc:
        details.append(str(exc).removeprefix(f"{path}: "))
        return CheckRow(prompt_id, lang, path, (*found, BAD_FORMAT), None, "; ".join(details))
    wrong = audio_problems(info)
    if BAD_FORMAT in wrong:
        details.append(f"{info.format_text}, Asterisk wants 8000 Hz, 1 ch, 16-bit")
    if TOO_SHORT in wrong or TOO_LONG in wrong:
        details.append(f"{info.duration:.2f} s")
    if SILENT in wrong:
        details.append(f"RMS {info.rms_dbfs:.1f} dBFS")
    if CLIPPED in wrong:
        details.append(f"{100 * info.clipped_ratio:.2f}% of samples at full scale")
    return CheckRow(prompt_id, lang, path, (*found, *wrong), info, "; ".join(details))


# ----------------------------------------------------------------- install


def install_prompts(
    sounds_dir: str | Path,
    target_dir: str | Path,
    *,
    resolve: Callable[[Path], Path] | None = None,
) -> list[Path]:
    """Copy sounds/<lang>/balagh/*.wav to target_dir/<lang>/balagh/; return the files written.

    Every language folder we have is installed; our files already there are
    replaced, anything else in the target is left alone. The target's language
    folder may be a symlink to a folder (Debian's sounds/en is one). `resolve`
    maps a target folder to where it really is, for a target inside a chroot
    whose absolute symlinks mean something else from outside (the sandbox can
    pass `lambda p: in_chroot(root, str(p))` with a target_dir as seen inside).
    """
    sounds_dir, target_dir = Path(sounds_dir), Path(target_dir)
    written: list[Path] = []
    for source_dir in sorted(sounds_dir.glob("*/balagh")):
        if not source_dir.is_dir():
            continue
        lang_dir = target_dir / source_dir.parent.name
        if resolve is not None:
            lang_dir = resolve(lang_dir)
        if lang_dir.is_symlink() and not lang_dir.exists():
            raise FileNotFoundError(
                f"{lang_dir} is a symlink to {os.readlink(lang_dir)}, which does not exist"
            )
        dest_dir = lang_dir / "balagh"
        dest_dir.mkdir(parents=True, exist_ok=True)
        for source in sorted(source_dir.glob("*.wav")):
            dest = dest_dir / source.name
            _copy_atomic(source, dest)
            written.append(dest)
    return written


# ------------------------------------------------------------------ script


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


__all__ = [
    "MANIFEST",
    "MISSING",
    "NOT_IN_CATALOGUE",
    "Catalogue",
    "CheckRow",
    "Part",
    "Prompt",
    "ScriptLine",
    "audio_path",
    "check_prompts",
    "generate",
    "install_prompts",
    "load_catalogue",
    "missing_audio",
    "prompts_needed",
    "script",
]
