"""YAML loading that remembers where every key came from.

Admins edit YAML by hand; an error must name the file, the line and the key
(`config/routing.yaml:12: rules[3].queue: unknown queue 'x'`), so every loader
in Balagh goes through this module instead of calling yaml.safe_load itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


def format_key(key: Iterable[str | int]) -> str:
    """('rules', 3, 'queue') -> 'rules[3].queue'."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class ConfigError(Exception):
    """A configuration problem, located as precisely as we can."""

    def __init__(self, path: str | Path, line: int | None, key: KeyPath | str, message: str):
        self.path = str(path)
        self.line = line
        self.key = key if isinstance(key, str) else format_key(key)
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass
class YamlDoc:
    """Parsed YAML plus the line (1-based) of every mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, key: KeyPath) -> int | None:
        """Line of `key`, or of its nearest located ancestor."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def error(self, key: KeyPath, message: str) -> ConfigError:
        return ConfigError(self.path, self.line(key), key, message)


def _walk(node: yaml.Node, key: KeyPath, lines: dict[KeyPath, int], path: Path) -> None:
    lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[KeyPath] = set()
        for knode, vnode in node.value:
            child = (*key, str(knode.value))
            # PyYAML silently keeps the last of two equal keys; an admin's typo must not vanish.
            if child in seen:
                raise ConfigError(path, knode.start_mark.line + 1, child,
                                  f"duplicate key (first on line {lines[child]})")
            seen.add(child)
            lines[child] = knode.start_mark.line + 1
            _walk(vnode, child, lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*key, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, path)


def _bad_scalar(node: yaml.Node | None, key: KeyPath = ()) -> tuple[KeyPath, int] | None:
    """Key path and line of the first scalar PyYAML cannot construct (it does not say)."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node)
        except ValueError:
            return key, node.start_mark.line + 1
        return None
    children: list[tuple[KeyPath, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        children = [((*key, str(k.value)), v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [((*key, i), item) for i, item in enumerate(node.value)]
    for child_key, child in children:
        found = _bad_scalar(child, child_key)
        if found:
            return found
    return None


def load_yaml(path: str | Path) -> YamlDoc:
    """Load one YAML file; syntax errors become ConfigError with the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc.strerror}") from exc
    return parse_yaml(text, path)


def parse_yaml(text: str, path: str | Path = "<string>") -> YamlDoc:
    path = Path(path)
    node = None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(path, line, "", f"YAML syntax: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, "", f"YAML: {exc}") from exc
    except ValueError as exc:  # e.g. an impossible unquoted date: 2026-13-01
        key, line = _bad_scalar(node) or ((), None)
        raise ConfigError(path, line, key, f"{exc}; put the value in quotes if it is "
                          "not meant as a date") from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk(node, (), lines, path)
    return YamlDoc(path=path, data=data, lines=lines)


def load_optional_mapping(path: str | Path, keys: Iterable[str],
                          what: str) -> tuple[YamlDoc, dict[Any, Any]] | None:
    """An optional config file that is a mapping of `keys`; None if it is missing or empty
    (the caller's defaults then apply). `what` names its keys in the error for a non-mapping."""
    path = Path(path)
    if not path.exists():
        return None
    doc = load_yaml(path)
    if doc.data is None:
        return None
    if not isinstance(doc.data, dict):
        raise doc.error((), f"must be a mapping with {what}")
    known_keys(doc, (), doc.data, keys)
    return doc, doc.data


def known_keys(doc: YamlDoc, key: KeyPath, raw: dict[Any, Any], known: Iterable[str]) -> None:
    """Every key of the mapping `raw` at `key` is one of `known`, else a ConfigError there."""
    known = tuple(known)
    for name in raw:
        if str(name) not in known:
            raise doc.error((*key, str(name)), f"unknown key (known: {', '.join(known)})")
