"""What a `when:` may refer to (WhenContext), and the value-or-list reading all kinds share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from balagh.config.yamlsrc import KeyPath, YamlDoc
from balagh.routing.conditions import Calendar
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE

__all__ = ["WhenContext", "one_or_many"]


@dataclass(frozen=True)
class WhenContext:
    """What names a condition may refer to."""

    doc: YamlDoc
    queues: tuple[str, ...]
    answer_values: Mapping[str, frozenset[str]] | None
    lists: Mapping[str, frozenset[str]]
    calendars: Mapping[str, Calendar]
    country_code: str = DEFAULT_COUNTRY_CODE  # what a national number in a rule means


def one_or_many(doc: YamlDoc, key: KeyPath, raw: Any) -> list[tuple[KeyPath, Any]]:
    """A value or a list of values (any of them), each with its own key for messages."""
    if isinstance(raw, list):
        if not raw:
            raise doc.error(key, "an empty list never matches; give at least one")
        return [((*key, index), item) for index, item in enumerate(raw)]
    return [(key, raw)]
