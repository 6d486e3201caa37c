"""Which Debian mirror the sandbox is built from.

Never hard-coded: BALAGH_DEBIAN_MIRROR wins, otherwise the machine's own apt
sources (deb822 *.sources first, then one-line sources.list).
"""

from __future__ import annotations

import os
from pathlib import Path

APT_DIR = Path("/etc/apt")


def _from_deb822(text: str) -> str | None:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        suites = fields.get("suites", "").split()
        if "deb" in fields.get("types", "").split() and fields.get("uris") and any(
            not suite.endswith("-security") for suite in suites
        ):
            return fields["uris"].split()[0]
    return None


def _from_one_line(text: str) -> str | None:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "deb":
            uri_index = 2 if parts[1].startswith("[") else 1
            suite = parts[uri_index + 1] if len(parts) > uri_index + 1 else ""
            if not suite.endswith("-security"):
                return parts[uri_index]
    return None


def debian_mirror(apt_dir: Path = APT_DIR, environ: dict[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    if environ.get("BALAGH_DEBIAN_MIRROR"):
        return environ["BALAGH_DEBIAN_MIRROR"]
    for source in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        found = _from_deb822(source.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found
    candidates = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for source in candidates:
        if source.exists():
            found = _from_one_line(source.read_text(encoding="utf-8", errors="replace"))
            if found:
                return found
    raise RuntimeError(
        "no Debian mirror found in /etc/apt sources; set BALAGH_DEBIAN_MIRROR to one"
    )
