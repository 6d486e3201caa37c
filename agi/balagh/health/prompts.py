"""`balagh health`'s prompts line: can the PBX play every prompt, and are they recordings?

Asterisk plays sound:balagh/<id> from <its sounds folder>/<lang>/balagh/<id>.wav as the
user it runs as. This looks in that folder (where asterisk.conf's astdatadir puts it; in
the sandbox, inside its chroot) for every prompt a caller may hear, checks that the user
can reach and read each file (the mode bits of the file and of every folder on the way),
and counts the files whose bytes are still espeak-ng placeholders.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from balagh.config import Settings
from balagh.health.report import Check, Status
from balagh.ivr.menu import load_menu
from balagh.pbx.sandbox import Sandbox, in_chroot
from balagh.sounds import catalogue_path, load_catalogue, prompts_needed
from balagh.sounds.check import prompt_keys
from balagh.sounds.synth import file_hash, placeholder_hashes

ASTERISK_CONF = "/etc/asterisk/asterisk.conf"
# Without an asterisk.conf that says: Debian's folder, then FreePBX's and a source build's.
DATA_DIRS = ("/usr/share/asterisk", "/var/lib/asterisk")
RUN_USER = "asterisk"  # Debian's and FreePBX's; asterisk.conf's runuser overrides it
SHOWN = 3  # files named on the line; --json has them all


@dataclass(frozen=True)
class PbxSounds:
    """Asterisk's sounds folder and user, as that Asterisk sees them."""

    root: Path     # "/" on a real PBX; the sandbox's chroot
    sounds: str    # the folder as Asterisk names it, e.g. /usr/share/asterisk/sounds
    user: str
    found_by: str  # where the folder came from, for the line

    def real(self, inner: str) -> Path:
        """The path `inner` (as Asterisk names it) here, its symlinks followed in root."""
        return in_chroot(self.root, inner)

    def where(self) -> str:
        return self.sounds if self.root == Path("/") else f"{self.root}{self.sounds}"


def pbx_sounds(settings: Settings, folder: Path | None = None) -> PbxSounds:
    """The folder given (`balagh health --pbx-sounds`), the sandbox's if it is installed,
    or the one /etc/asterisk/asterisk.conf names (astdatadir/sounds)."""
    sandbox = Sandbox(settings)
    root = sandbox.root if folder is None and sandbox.installed else Path("/")
    options = _asterisk_conf(in_chroot(root, ASTERISK_CONF))
    user = options.get("runuser", RUN_USER)
    if folder is not None:
        return PbxSounds(root, str(folder), user, "--pbx-sounds")
    found_by = "the sandbox's asterisk.conf" if root != Path("/") else ASTERISK_CONF
    data_dir = options.get("astdatadir")
    if data_dir is None:
        found_by = "Debian's default" if root != Path("/") else "the usual places"
        data_dir = next((d for d in DATA_DIRS if in_chroot(root, f"{d}/sounds").is_dir()),
                        DATA_DIRS[0])
    return PbxSounds(root, f"{data_dir.rstrip('/')}/sounds", user, found_by)


def _asterisk_conf(path: Path) -> dict[str, str]:
    """`key => value` and `key = value` lines of asterisk.conf (comments dropped)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep and key.strip() and value.strip(" >\t"):
            values[key.strip()] = value.strip(" >\t")
    return values


# ---------------------------------------------------------------- who may read


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gids: frozenset[int]


def account(root: Path, name: str) -> Account | None:
    """`name` from root's /etc/passwd and /etc/group (the chroot's own, in the sandbox)."""
    uid = gid = None
    for fields in _colon_file(root, "/etc/passwd"):
        if len(fields) > 3 and fields[0] == name:
            uid, gid = int(fields[2]), int(fields[3])
    if uid is None or gid is None:
        return None
    groups = {gid} | {int(fields[2]) for fields in _colon_file(root, "/etc/group")
                      if len(fields) > 3 and name in fields[3].split(",")}
    return Account(name, uid, frozenset(groups))


def _colon_file(root: Path, name: str) -> list[list[str]]:
    try:
        text = in_chroot(root, name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def unreadable(path: Path, stop: Path, who: Account) -> str | None:
    """Why `who` cannot read `path` (the file, or a folder up to `stop` it must pass), or
    None when it can."""
    if who.uid == 0:
        return None
    chain = [path, *(parent for parent in path.parents if parent.is_relative_to(stop))]
    for index, item in enumerate(chain):
        info = item.stat()
        need = (stat.S_IROTH if index == 0 else stat.S_IXOTH)
        if info.st_uid == who.uid:
            allowed = info.st_mode & (need << 6)
        elif info.st_gid in who.gids:
            allowed = info.st_mode & (need << 3)
        else:
            allowed = info.st_mode & need
        if not allowed:
            kind = "file" if index == 0 else "folder"
            return (f"{kind} {item} is mode {stat.S_IMODE(info.st_mode):04o}, "
                    f"uid {info.st_uid} gid {info.st_gid}")
    return None


# ---------------------------------------------------------------------- the line


def prompts_check(settings: Settings, pbx: PbxSounds) -> Check:
    """One line: every prompt present and readable by Asterisk's user (else warn), and how
    many are synthetic placeholders (a warning too: callers hear a robot)."""
    catalogue = load_catalogue(catalogue_path(settings.sounds_dir))
    menu = load_menu(settings.ivr_file)
    keys = prompt_keys(catalogue, prompts_needed(menu), menu.languages)
    who = account(pbx.root, pbx.user)
    synthetic = placeholder_hashes(settings.sounds_dir)
    missing: list[str] = []
    locked: list[str] = []
    placeholders: list[str] = []
    for prompt_id, lang in keys:
        name = f"{lang}/balagh/{prompt_id}.wav"
        path = pbx.real(f"{pbx.sounds}/{name}")
        if not path.is_file():
            missing.append(name)
            continue
        why = unreadable(path, pbx.root, who) if who is not None else None
        if why is not None:
            locked.append(f"{name}: {why}")
        if file_hash(path) in synthetic:
            placeholders.append(name)
    data = {"folder": pbx.where(), "found_by": pbx.found_by, "user": pbx.user,
            "prompts": len(keys), "missing": missing, "unreadable": locked,
            "placeholders": len(placeholders)}
    problems = _problems(pbx, who, len(keys), missing, locked)
    if not problems:
        problems = [f"{len(keys)} prompts in {pbx.where()} ({pbx.found_by}), readable by "
                    f"{pbx.user}"]
    if placeholders:
        problems.append(f"{len(placeholders)} of them synthetic placeholders (espeak-ng): "
                        "record them (docs/voice-artists.md)")
    status = Status.DEGRADED if missing or locked or who is None or placeholders \
        else Status.OK
    return Check("prompts", status, "; ".join(problems), data)


def _problems(pbx: PbxSounds, who: Account | None, total: int, missing: list[str],
              locked: list[str]) -> list[str]:
    found = []
    if missing:
        found.append(f"{len(missing)} of {total} prompts missing in {pbx.where()} "
                     f"({pbx.found_by}): {_some(missing)}; copy them with `balagh sounds "
                     f"install --to {pbx.sounds}`")
    if who is None:
        found.append(f"no user {pbx.user!r} in {pbx.real('/etc/passwd')}: who may read the "
                     "prompts was not checked")
    if locked:
        found.append(f"{len(locked)} of {total} prompts not readable by {pbx.user}: "
                     f"{_some(locked)}")
    return found


def _some(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


__all__ = ["ASTERISK_CONF", "Account", "PbxSounds", "account", "pbx_sounds", "prompts_check",
           "unreadable"]
