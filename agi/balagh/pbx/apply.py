"""`balagh pbx apply`: Balagh's snippets into an existing Asterisk's configuration folder.

Each snippet is a file of its own (balagh_*.conf, extensions_balagh*.conf), and each
site file gets one `#include` line at its end: nothing of the site's is overwritten, and a
second run changes nothing. On a FreePBX layout the include lines go into the *_custom.conf
files FreePBX leaves to the admin (it regenerates manager.conf, ari.conf, queues.conf and
extensions.conf), and its own [general] settings (HTTP, AMI, ARI) stay as its GUI set them.
The AMI and ARI secrets are made once into Balagh's secrets file (0600); the snippets
holding them are 0640 with the group of the site file that includes them.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from balagh.config import read_env_file
from balagh.config.asterisk_conf import SECTION, read_lines
from balagh.config.yamlsrc import ConfigError
from balagh.pbx import snippets

SECRET_KEYS = tuple(snippets.SECRET_PLACEHOLDERS.values())


class ApplyError(RuntimeError):
    pass


@dataclass(frozen=True)
class Change:
    path: Path
    what: str          # "write", "include" (a line appended), "create-once"
    text: str          # the file's content, or the include line
    mode: int = 0o644
    group_of: Path | None = None  # take this file's group (Asterisk must read it)


@dataclass(frozen=True)
class Outcome:
    change: Change
    done: str          # what happened (or would), one line for the admin


# Site file -> (layout -> the file that gets the include) and the snippet it includes.
def _site_files(layout: str) -> dict[str, str]:
    if layout == "freepbx":
        return {"manager": "manager_custom.conf", "ari": "ari_additional_custom.conf",
                "queues": "queues_custom.conf", "extensions": "extensions_custom.conf",
                "modules": "modules.conf"}
    return {"manager": "manager.conf", "ari": "ari.conf", "http": "http.conf",
            "queues": "queues.conf", "extensions": "extensions.conf", "modules": "modules.conf"}


def plan(etc: Path, layout: str, secret_values: Mapping[str, str]) -> list[Change]:
    """Every file apply writes and every include line it adds, in order."""
    if layout not in snippets.LAYOUTS:
        raise ApplyError(f"unknown layout {layout!r}: one of {', '.join(snippets.LAYOUTS)}")
    if not etc.is_dir():
        raise ApplyError(f"{etc} is not a folder (the Asterisk configuration, e.g. /etc/asterisk)")
    site = _site_files(layout)
    stock = layout == "stock"
    changes = [
        Change(etc / "balagh_manager.conf",
               "write", snippets.manager(secret_values, general=stock,
                                         reopen=_has_general(etc / site["manager"])),
               0o640, etc / site["manager"]),
        Change(etc / "balagh_ari.conf",
               "write", snippets.ari(secret_values, general=stock,
                                     reopen=_has_general(etc / site["ari"])),
               0o640, etc / site["ari"]),
    ]
    if stock:
        changes.append(Change(etc / "balagh_http.conf", "write",
                              snippets.http(reopen=_has_general(etc / site["http"]))))
    changes += [
        Change(etc / "balagh_queues.conf", "write", snippets.queues()),
        Change(etc / snippets.MEMBERS_FILE, "create-once",
               snippets.queue_members(snippets.queue_names())),
        Change(etc / "extensions_balagh.conf", "write",
               snippets.dialplan("extensions_balagh.conf")),
        Change(etc / "extensions_balagh_dialplan.conf", "write",
               snippets.dialplan("extensions_balagh_dialplan.conf")),
        Change(etc / "balagh_modules.conf", "write",
               snippets.modules(reopen=_has_general(etc / site["modules"], "modules"))),
    ]
    includes = [("manager", "balagh_manager.conf"), ("ari", "balagh_ari.conf"),
                ("http", "balagh_http.conf"), ("queues", "balagh_queues.conf"),
                ("extensions", "extensions_balagh.conf"),
                ("extensions", "extensions_balagh_dialplan.conf"),
                ("modules", "balagh_modules.conf")]
    for kind, snippet in includes:
        if kind in site:
            changes.append(Change(etc / site[kind], "include", f'#include "{snippet}"'))
    return changes


def _has_general(path: Path, name: str = "general") -> bool:
    """Whether the site file (with its includes) has its own [general] (or [name]) to add
    to: `[general](+)` where there is none stops Asterisk loading the whole file."""
    if not path.exists():
        return False
    try:
        for line in read_lines(path):
            match = SECTION.match(line.text)
            if match and match.group(1).strip() == name and not match.group(2) \
                    and not line.path.name.startswith("balagh_"):
                return True
    except ConfigError as exc:
        raise ApplyError(str(exc)) from None
    return False


def _includes(path: Path, snippet: str) -> bool:
    pattern = re.compile(r'\s*#(try)?include\s+"?' + re.escape(snippet) + r'"?\s*(;.*)?$')
    return path.exists() and any(pattern.match(line) for line in
                                 path.read_text(encoding="utf-8", errors="replace").splitlines())


def apply(changes: list[Change], *, dry_run: bool = False) -> list[Outcome]:
    """Carry out the plan; each outcome says what was (or, with dry_run, would be) done."""
    outcomes = []
    verb = "would " if dry_run else ""
    for change in changes:
        path = change.path
        if change.what == "include":
            snippet = change.text.split('"')[1]
            if _includes(path, snippet):
                outcomes.append(Outcome(change, f"unchanged  {path} includes {snippet}"))
                continue
            if not dry_run:  # appended in place: the site file keeps its owner and mode
                old = path.read_text(encoding="utf-8") if path.exists() else ""
                separator = "" if not old or old.endswith("\n") else "\n"
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(f"{separator}{change.text}\n")
            outcomes.append(Outcome(change, f"{verb}add    {change.text} to {path}"))
            continue
        if path.exists() and (change.what == "create-once"
                              or path.read_text(encoding="utf-8") == change.text):
            outcomes.append(Outcome(change, f"unchanged  {path}"))
            continue
        done = "write " if not path.exists() else "update"
        if not dry_run:
            _write(path, change.text, change.mode, change.group_of)
        outcomes.append(Outcome(change, f"{verb}{done}  {path}"))
    return outcomes


def _write(path: Path, text: str, mode: int, group_of: Path | None) -> None:
    """Write through a temporary file and rename, so Asterisk never reads half a file."""
    temporary = path.with_name(f".{path.name}.balagh-tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    if group_of is not None and group_of.exists():
        try:  # Asterisk reads it as its group (root: any group; others: their own)
            os.chown(temporary, -1, group_of.stat().st_gid)
        except PermissionError:
            pass
    os.replace(temporary, path)


def secrets_for_site(path: Path, *, dry_run: bool = False) -> tuple[dict[str, str], bool]:
    """The AMI and ARI secrets from Balagh's secrets file, made (0600) if missing.
    Returns them and whether the file was (or would be) written."""
    values = read_env_file(path) if path.exists() else {}
    missing = [key for key in SECRET_KEYS if not values.get(key)]
    if not missing:
        return values, False
    for key in missing:
        values[key] = secrets.token_urlsafe(24)
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        old = path.read_text(encoding="utf-8") if path.exists() else \
            "# Balagh's secrets (0600): AMI and ARI, made by `balagh pbx apply`.\n"
        separator = "" if old.endswith("\n") else "\n"
        added = "".join(f"{key}={values[key]}\n" for key in missing)
        temporary = path.with_name(f".{path.name}.balagh-tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(old + separator + added)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    return values, True


def sounds_folder(etc: Path) -> Path:
    """Where this Asterisk reads its prompts: astdatadir of asterisk.conf + /sounds
    (Debian: /usr/share/asterisk; FreePBX and source builds: /var/lib/asterisk)."""
    conf = etc / "asterisk.conf"
    if conf.exists():
        for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
            match = re.match(r"\s*astdatadir\s*=>?\s*([^;\s]+)", line)
            if match:
                return Path(match.group(1)) / "sounds"
    return Path("/var/lib/asterisk/sounds")  # Asterisk's own default
