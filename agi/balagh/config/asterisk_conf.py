"""Reading an Asterisk .conf file as Asterisk does: `#include` and `#tryinclude` followed.

A FreePBX queues.conf is a short generated file that includes queues_custom.conf and
queues_additional.conf, where the queues are; reading only the top file sees none. An
include is relative to the including file's folder (FreePBX and Debian keep them all in
/etc/asterisk), may hold a glob, and is bounded: a loop, a chain deeper than MAX_DEPTH
or more than MAX_FILES files is a ConfigError naming the file, never a hang.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from balagh.config.yamlsrc import ConfigError

MAX_DEPTH = 10   # FreePBX nests two or three deep
MAX_FILES = 500  # a full FreePBX tree is about 200 .conf files
_INCLUDE = re.compile(r'\s*#(include|tryinclude)\s+"?([^"\s]+)"?\s*$')
SECTION = re.compile(r"\s*\[([^\]]+)\](\(([^)]*)\))?")


@dataclass(frozen=True)
class ConfLine:
    path: Path
    number: int
    text: str


def read_lines(path: Path) -> Iterator[ConfLine]:
    """Every line of `path` and of the files it includes, in Asterisk's order (an include
    line itself comes just before the included file's lines)."""
    yield from _read(path, (), [0])


def included_files(path: Path) -> list[Path]:
    """`path` and every file it includes (each once, in reading order)."""
    files: list[Path] = []
    for line in read_lines(path):
        if line.path not in files:
            files.append(line.path)
    return files


def _read(path: Path, stack: tuple[Path, ...], count: list[int]) -> Iterator[ConfLine]:
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(p.name for p in (*stack, resolved))
        raise ConfigError(path, None, "#include", f"include loop: {chain}")
    if len(stack) >= MAX_DEPTH:
        raise ConfigError(path, None, "#include", f"includes nested deeper than {MAX_DEPTH}")
    count[0] += 1
    if count[0] > MAX_FILES:
        raise ConfigError(path, None, "#include", f"more than {MAX_FILES} files included")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        yield ConfLine(path, number, line)  # include lines too: where a file came from
        match = _INCLUDE.match(line)
        if not match:
            continue
        target = Path(match.group(2))
        pattern = str(target if target.is_absolute() else path.parent / target)
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else (
            [pattern] if Path(pattern).exists() else [])
        if not found and match.group(1) == "include" and not glob.has_magic(pattern):
            raise ConfigError(path, number, line.strip(), f"included file {pattern} is missing")
        for name in found:
            yield from _read(Path(name), (*stack, resolved), count)
