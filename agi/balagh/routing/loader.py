"""Load and validate config/routing.yaml: the only module in routing/ that does I/O.

Every problem is a ConfigError naming file, line and key, found once at start-up,
so a typo never turns into a caller routed to the wrong unit at night.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from balagh.routing.model import DEFAULT_RULE, Rule, Table
from balagh.yamlsrc import KeyPath, YamlDoc, load_yaml

__all__ = ["load_table"]

# Queue names go into Queue(<name>,...) in the dialplan: no commas, spaces or '|'.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TOP_KEYS = ("queues", "priority", "rules", "default")
_PRIORITY_KEYS = ("in_danger", "normal")
_RULE_KEYS = ("name", "when", "queue", "priority")


def load_table(path: str | Path,
               answer_values: Mapping[str, frozenset[str]] | None = None) -> Table:
    """Load the routing table; with `answer_values` (from Menu.answer_values()) every
    question id and answer a rule tests must exist in the IVR menu."""
    doc = load_yaml(path)
    top = doc.data
    if not isinstance(top, dict):
        raise doc.error((), "the routing table must be a mapping with " + ", ".join(_TOP_KEYS))
    _known_keys(doc, (), top, _TOP_KEYS)

    queues = _queues(doc, top.get("queues"))
    danger_priority, normal_priority = _priorities(doc, top.get("priority"))
    if "default" not in top or top["default"] is None:
        raise doc.error(("default",), "missing: the queue for calls no rule matches")
    default_queue = _queue_ref(doc, ("default",), top["default"], queues)

    raw_rules = top.get("rules")
    if raw_rules is None:
        raw_rules = []  # everything to the default queue is a valid (if dull) table
    if not isinstance(raw_rules, list):
        raise doc.error(("rules",), "must be a list of rules")
    rules: list[Rule] = []
    for index, raw in enumerate(raw_rules):
        rule = _rule(doc, ("rules", index), raw, queues, answer_values)
        _check_against_earlier(doc, index, rule, rules)
        rules.append(rule)

    return Table(queues=queues, rules=tuple(rules), default_queue=default_queue,
                 danger_priority=danger_priority, normal_priority=normal_priority,
                 source=doc.path)


def _queues(doc: YamlDoc, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise doc.error(("queues",), "must be a non-empty list of Asterisk queue names")
    queues: list[str] = []
    for index, item in enumerate(raw):
        queue = _token(doc, ("queues", index), item)
        if queue in queues:
            raise doc.error(("queues", index), f"queue '{queue}' is listed twice")
        queues.append(queue)
    return tuple(queues)


def _priorities(doc: YamlDoc, raw: Any) -> tuple[int, int]:
    if raw is None:
        return Table.danger_priority, Table.normal_priority
    if not isinstance(raw, dict):
        raise doc.error(("priority",), "must be a mapping like {in_danger: 10, normal: 0}")
    _known_keys(doc, ("priority",), raw, _PRIORITY_KEYS)
    danger = _int(doc, ("priority", "in_danger"), raw.get("in_danger", Table.danger_priority))
    normal = _int(doc, ("priority", "normal"), raw.get("normal", Table.normal_priority))
    if danger < normal:
        raise doc.error(("priority", "in_danger"),
                        f"must not be lower than normal ({normal}), got {danger}")
    return danger, normal


def _rule(doc: YamlDoc, key: KeyPath, raw: Any, queues: tuple[str, ...],
          answer_values: Mapping[str, frozenset[str]] | None) -> Rule:
    if not isinstance(raw, dict):
        raise doc.error(key, "a rule must be a mapping with name, when and queue")
    _known_keys(doc, key, raw, _RULE_KEYS)
    name = _token(doc, (*key, "name"), raw.get("name"))
    if name == DEFAULT_RULE:
        raise doc.error((*key, "name"), f"'{DEFAULT_RULE}' is reserved for calls no rule "
                        "matches; set the top-level default instead")
    if "when" not in raw:
        raise doc.error((*key, "when"),
                        "missing; write 'when: {}' for a rule that takes every call")
    priority = None
    if raw.get("priority") is not None:
        priority = _int(doc, (*key, "priority"), raw["priority"])
    return Rule(
        name=name,
        when=_when(doc, (*key, "when"), raw["when"], answer_values),
        queue=_queue_ref(doc, (*key, "queue"), raw.get("queue"), queues),
        priority=priority,
        line=doc.line(key),
    )


def _when(doc: YamlDoc, key: KeyPath, raw: Any,
          answer_values: Mapping[str, frozenset[str]] | None) -> dict[str, frozenset[str]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise doc.error(key, "must be a mapping of question to answer(s), e.g. {age: child}")
    when: dict[str, frozenset[str]] = {}
    for raw_question, raw_accepted in raw.items():
        question = _token(doc, (*key, str(raw_question)), raw_question)
        here = (*key, question)
        known = None
        if answer_values is not None:
            if question not in answer_values:
                raise doc.error(here, f"unknown question '{question}' (the IVR menu asks: "
                                f"{', '.join(answer_values)})")
            known = answer_values[question]
        items = raw_accepted if isinstance(raw_accepted, list) else [raw_accepted]
        if not items:
            raise doc.error(here, "an empty list never matches; give at least one answer")
        accepted: set[str] = set()
        for index, item in enumerate(items):
            item_key = (*here, index) if isinstance(raw_accepted, list) else here
            value = _token(doc, item_key, item)
            if known is not None and value not in known:
                raise doc.error(item_key, f"'{question}' has no answer '{value}' "
                                f"(it has: {', '.join(sorted(known))})")
            accepted.add(value)
        when[question] = frozenset(accepted)
    return when


def _check_against_earlier(doc: YamlDoc, index: int, rule: Rule, earlier: list[Rule]) -> None:
    for before in earlier:
        if before.name == rule.name:
            raise doc.error(("rules", index, "name"),
                            f"duplicate rule name '{rule.name}' (first at line {before.line})")
    for before in earlier:
        if before.shadows(rule):
            raise doc.error(("rules", index, "when"),
                            f"rule '{rule.name}' can never match: rule '{before.name}' "
                            f"(line {before.line}) above already takes every such call")


def _queue_ref(doc: YamlDoc, key: KeyPath, raw: Any, queues: tuple[str, ...]) -> str:
    queue = _token(doc, key, raw)
    if queue not in queues:
        raise doc.error(key, f"unknown queue '{queue}' (queues: {', '.join(queues)})")
    return queue


def _known_keys(doc: YamlDoc, key: KeyPath, raw: dict[Any, Any], known: tuple[str, ...]) -> None:
    for name in raw:
        if str(name) not in known:
            raise doc.error((*key, str(name)), f"unknown key (known: {', '.join(known)})")


def _token(doc: YamlDoc, key: KeyPath, value: Any) -> str:
    if value is None:
        raise doc.error(key, "missing")
    if isinstance(value, bool):
        raise doc.error(key, f"got {str(value).lower()}: YAML reads bare yes/no/on/off as "
                        "true/false; put the word in quotes, e.g. 'yes'")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise doc.error(key, f"must be a name of letters, digits, '-', '_' or '.', got {value!r}")
    return value


def _int(doc: YamlDoc, key: KeyPath, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(key, f"must be a whole number, got {value!r}")
    return value
