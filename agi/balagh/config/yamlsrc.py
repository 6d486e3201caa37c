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

# Config files are written by people: kilobytes, a few hundred values. Far beyond these
# is a wrong file or an attack, and is refused before it can stall or exhaust anything.
MAX_CONFIG_BYTES = 1_000_000
MAX_NODES = 100_000  # nodes (keys and values) as written, and again once aliases are expanded
MAX_ALIASES = 1_000  # `*name` uses: a config file repeats a block a few times, if ever
MAX_DEPTH = 64  # nested mappings and lists: config files nest a handful deep

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


# Every character str.splitlines() breaks at, written as its escape instead.
_LINE_BREAKS = {ord(ch): ch.encode("unicode_escape").decode("ascii")
                for ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


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
        text = f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"
        # One line whatever a key or value held (a key can be any YAML string).
        return text.translate(_LINE_BREAKS)


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


class _Walk:
    """One pass over the composed nodes: each key path's line, and the limits on what a
    hostile or broken file could make of aliases (a loop, or a "billion laughs" bomb).
    Keys count like values: a bomb can hide in mapping keys as well as in values."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[KeyPath, int] = {}
        self.budget = MAX_NODES
        self.open: set[int] = set()  # the nodes on the way down to this one

    def walk(self, node: yaml.Node, key: KeyPath) -> None:
        line = node.start_mark.line + 1
        if id(node) in self.open:
            raise ConfigError(self.path, line, key, "an alias refers to itself (a loop)")
        if len(key) > MAX_DEPTH:
            raise ConfigError(self.path, line, key, f"nested more than {MAX_DEPTH} deep: "
                              "too deep for a config file")
        self._count(node, key)
        self.lines.setdefault(key, line)
        self.open.add(id(node))
        try:
            self._children(node, key)
        finally:
            self.open.discard(id(node))

    def _count(self, node: yaml.Node, key: KeyPath) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise ConfigError(self.path, node.start_mark.line + 1, key,
                              f"more than {MAX_NODES} values once aliases are expanded: "
                              "too large for a config file")

    def _children(self, node: yaml.Node, key: KeyPath) -> None:
        lines = self.lines
        if isinstance(node, yaml.MappingNode):
            seen: set[KeyPath] = set()
            for knode, vnode in node.value:
                # A key is a name: a list or mapping as a key (`? [..]`, `? *list`) is
                # never meant in a config file, and rendering one could cost exponentially.
                if not isinstance(knode, yaml.ScalarNode):
                    raise ConfigError(self.path, knode.start_mark.line + 1, key,
                                      "a key must be plain text, not a list or a mapping"
                                      " (or an alias of one)")
                self._count(knode, key)
                child = (*key, str(knode.value))
                # PyYAML silently keeps the last of two equal keys; a typo must not vanish.
                if child in seen:
                    raise ConfigError(self.path, knode.start_mark.line + 1, child,
                                      f"duplicate key (first on line {lines[child]})")
                seen.add(child)
                lines[child] = knode.start_mark.line + 1
                self.walk(vnode, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*key, index)
                lines[child] = item.start_mark.line + 1
                self.walk(item, child)


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
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(path, None, "", f"is {size} bytes; a config file is at most "
                              f"{MAX_CONFIG_BYTES} (is it the right file?)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "", f"not UTF-8 text (byte {exc.start}): a config "
                          "file is plain text, saved as UTF-8") from None
    return parse_yaml(text, path)


# PyYAML's scanner re-checks every open flow level ([ or {) at each token: 50,000
# levels take seconds, a megabyte of '[' minutes. No config file nests past a few.
MAX_FLOW_DEPTH = 100


class _TooDeep(Exception):
    pass


class _TooMany(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts as it composes: flow levels (MAX_FLOW_DEPTH), nodes
    (MAX_NODES) and aliases (MAX_ALIASES), so a huge file stops at the first node too
    many, not after composing all of it."""

    nodes = 0
    aliases = 0

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_FLOW_DEPTH:
            raise _TooDeep
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Any, index: Any) -> Any:
        line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _TooMany(line, f"more than {MAX_ALIASES} aliases (*name): too many "
                               "for a config file")
        else:
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise _TooMany(line, f"more than {MAX_NODES} values: too large for a "
                               "config file")
        return super().compose_node(parent, index)


def parse_yaml(text: str, path: str | Path = "<string>") -> YamlDoc:
    path = Path(path)
    node = None
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # its reader refuses control characters at once
        node = loader.get_single_node()
        walk = _Walk(path)
        if node is not None:
            walk.walk(node, ())  # first: it refuses alias loops and bombs, keys included
        # The nodes already composed: parsing the text again would cost as much again.
        data = None if node is None else loader.construct_document(node)
    except (RecursionError, _TooDeep):
        raise ConfigError(path, None, "", "nested too deeply to be a config file") from None
    except _TooMany as exc:
        raise ConfigError(path, exc.line, "", exc.message) from None
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
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDoc(path=path, data=data, lines=walk.lines)


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
