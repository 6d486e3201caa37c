"""Copy the prompt audio into a PBX's sounds folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from balagh.sounds.files import copy_atomic


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
            copy_atomic(source, dest)
            written.append(dest)
    return written


__all__ = ["install_prompts"]
