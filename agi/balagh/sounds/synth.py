"""Placeholder audio for the catalogue, made with espeak-ng and sox.

Until a studio records them, `generate` makes placeholders as Asterisk likes them
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
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import structlog

from balagh.sounds.catalogue import Catalogue, Part
from balagh.sounds.files import audio_path, copy_atomic

log = structlog.get_logger()

MANIFEST = ".generated.json"
# espeak-ng's default 175 is hurried for a distressed caller; 150 made the menu too long.
SPEED_WPM = 165
PART_GAP = 0.4  # seconds of silence between the parts of a mixed-language prompt
# 8 kHz mono signed 16-bit: Asterisk's native slin, no transcoding at playback.
_SOX_FORMAT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
_SOX_TRIM = ["silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse"]


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
                    copy_atomic(made[source], path)
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
    spoken = [[part.lang, voices[part.lang], SPEED_WPM, part.text] for part in parts]
    return _sha256(json.dumps(spoken, ensure_ascii=False).encode("utf-8"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str:
    return _sha256(path.read_bytes())


def placeholder_hashes(sounds_dir: str | Path) -> frozenset[str]:
    """sha256 of every file `generate` made (the manifest's "audio"): a file with one of
    these bytes is a synthetic placeholder wherever it is copied (a PBX's sounds folder
    too); a recording that replaced it has other bytes, and counts as real."""
    entries = _read_manifest(Path(sounds_dir) / MANIFEST).values()
    return frozenset(entry["audio"] for entry in entries
                     if isinstance(entry, dict) and isinstance(entry.get("audio"), str))


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes, as the manifest keeps them."""
    return _file_hash(path)


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


__all__ = ["MANIFEST", "PART_GAP", "SPEED_WPM", "file_hash", "generate", "placeholder_hashes"]
