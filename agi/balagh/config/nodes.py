"""The Asterisk nodes the people's tools see (`nodes:` in balagh.yaml): the setting's
parse; `Node` and `nodes_of` (which need the ARI/AMI settings) are in config/__init__.

Absent, the one node is the `ari`/`ami` settings' (today's single box, unchanged). Given,
the console, `balagh health` and `balagh monitor` read every node's AMI (and ARI) and
name each node in what they show. Credentials stay the `ari`/`ami` ones: every node is
deployed from the same config with the same secrets (pbx/nodes.py), so a node entry holds
addresses only and nothing secret is ever in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .values import port_problem, url_problem
from .yamlsrc import ConfigError, YamlDoc

MAX_NODES = 16
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_KEYS = ("name", "ari_url", "ami_host", "ami_port")


@dataclass(frozen=True)
class NodeSettings:
    """One node's addresses, as written in balagh.yaml."""

    name: str
    ari_url: str
    ami_host: str
    ami_port: int = 5038


def parse_nodes(doc: YamlDoc | None, value: Any) -> tuple[NodeSettings, ...]:
    """`nodes:` as a list of mappings; every problem names the entry and key."""
    def fail(key: tuple[Any, ...], message: str) -> ConfigError:
        if doc is None:
            return ConfigError("environment", None, "nodes", message)
        return doc.error(("nodes", *key), message)

    if not isinstance(value, list) or not value:
        raise fail((), "must be a list of nodes, each {name, ari_url, ami_host, ami_port}")
    if len(value) > MAX_NODES:
        raise fail((), f"at most {MAX_NODES} nodes, got {len(value)}")
    nodes: list[NodeSettings] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise fail((index,), "must be a mapping {name, ari_url, ami_host, ami_port}")
        unknown = sorted(str(key) for key in entry if key not in _KEYS)
        if unknown:
            raise fail((index, unknown[0]), f"unknown key (known: {', '.join(_KEYS)})")
        for key in ("name", "ari_url", "ami_host"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise fail((index, key), "missing, or not a string")
        name = entry["name"].strip()
        if not NAME_PATTERN.fullmatch(name):
            raise fail((index, "name"), f"must be 1-32 of a-z, 0-9, '-', '_', got {name!r}")
        if any(node.name == name for node in nodes):
            raise fail((index, "name"), f"node {name!r} is named twice")
        if problem := url_problem(entry["ari_url"], ("http", "https")):
            raise fail((index, "ari_url"), problem)
        port = entry.get("ami_port", 5038)
        if isinstance(port, bool) or not isinstance(port, int):
            raise fail((index, "ami_port"), f"must be a whole number, got {port!r}")
        if problem := port_problem(port):
            raise fail((index, "ami_port"), problem)
        nodes.append(NodeSettings(name, entry["ari_url"].strip(), entry["ami_host"].strip(),
                                  port))
    return tuple(nodes)


__all__ = ["MAX_NODES", "NodeSettings", "parse_nodes"]
