"""Load config/locations.yaml: number prefixes -> emirate, for locate().

Errors name file, line and key like the routing table's; with `emirates` (the IVR
menu's emirate answers) every emirate must be one a caller could also have chosen,
so a location condition means the same whichever source the location came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from balagh.config.yamlsrc import YamlDoc, load_yaml
from balagh.routing.load import fields
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE

__all__ = ["load_locations"]


def load_locations(path: str | Path,
                   emirates: frozenset[str] | None = None,
                   country_code: str = DEFAULT_COUNTRY_CODE) -> Mapping[str, str]:
    """Normalised prefix ("+9714") -> emirate. The longest matching prefix wins (locate())."""
    doc = load_yaml(path)
    top = doc.data
    if not isinstance(top, dict):
        raise doc.error((), "must be a mapping with 'prefixes'")
    fields.known_keys(doc, (), top, ("prefixes",))
    raw = top.get("prefixes")
    if raw is None:
        return MappingProxyType({})
    if not isinstance(raw, dict):
        raise doc.error(("prefixes",), "must map number prefixes to emirates, e.g. "
                        "\"+9714\": dubai")
    prefixes: dict[str, str] = {}
    first_key: dict[str, str] = {}
    # The keys as written: unquoted +9716 is the number 9716 in `raw`, "+9716" in the source.
    written = [key[1] for key in doc.lines if len(key) == 2 and key[0] == "prefixes"]
    for (raw_prefix, raw_emirate), as_written in zip(raw.items(), written, strict=False):
        key = ("prefixes", str(as_written))
        prefix = fields.number(doc, key, raw_prefix, prefix=True, country_code=country_code)
        if prefix in prefixes:
            raise doc.error(key, f"the same prefix as '{first_key[prefix]}' (line "
                            f"{doc.line(('prefixes', first_key[prefix]))}), written differently")
        prefixes[prefix] = _emirate(doc, key, raw_emirate, emirates)
        first_key[prefix] = str(as_written)
    return MappingProxyType(prefixes)


def _emirate(doc: YamlDoc, key: tuple[str, str], raw: Any, emirates: frozenset[str] | None) -> str:
    emirate = fields.token(doc, key, raw)
    if emirates is not None and emirate not in emirates:
        raise doc.error(key, f"unknown emirate '{emirate}' (the IVR menu's emirates: "
                        f"{', '.join(sorted(emirates))})")
    return emirate
