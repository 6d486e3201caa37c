"""Which Debian mirror the sandbox is built from.

Never hard-coded: BALAGH_DEBIAN_MIRROR wins, otherwise the machine's own apt
sources (deb822 *.sources, then one-line *.list files). Debian's own archive is
preferred over third-party repositories listed beside it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APT_DIR = Path("/etc/apt")


@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]
    signed_by: str = ""

    @property
    def usable(self) -> bool:
        return any(not suite.endswith("-security") for suite in self.suites)

    @property
    def looks_debian(self) -> bool:
        return "debian-archive-keyring" in self.signed_by or self.uri.rstrip("/").endswith(
            "/debian")


def _from_deb822(text: str) -> list[Source]:
    sources = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or line.startswith((" ", "\t")) or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if fields.get("enabled", "yes").lower() == "no":
            continue
        if "deb" in fields.get("types", "").split() and fields.get("uris"):
            suites = tuple(fields.get("suites", "").split())
            sources.append(Source(fields["uris"].split()[0], suites, fields.get("signed-by", "")))
    return sources


def _from_one_line(text: str) -> list[Source]:
    sources = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        options = ""
        if rest.startswith("["):
            options, _, rest = rest[1:].partition("]")  # options may contain spaces
        parts = rest.split()
        if len(parts) >= 2:
            signed = re.search(r"signed-by=(\S+)", options)
            sources.append(Source(parts[0], (parts[1],), signed.group(1) if signed else ""))
    return sources


def debian_mirror(apt_dir: Path = APT_DIR, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    if env.get("BALAGH_DEBIAN_MIRROR"):
        return env["BALAGH_DEBIAN_MIRROR"]
    sources: list[Source] = []
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        sources += _from_deb822(path.read_text(encoding="utf-8", errors="replace"))
    for path in [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]:
        if path.exists():
            sources += _from_one_line(path.read_text(encoding="utf-8", errors="replace"))
    usable = [source for source in sources if source.usable]
    for source in [*(s for s in usable if s.looks_debian), *usable]:
        return source.uri
    raise RuntimeError(
        "no Debian mirror found in /etc/apt sources; set BALAGH_DEBIAN_MIRROR to one"
    )
