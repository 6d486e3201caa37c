"""Checks for single YAML values, shared by the routing, locations and IVR menu loaders.

Each raises the document's ConfigError (file, line, key), with a message that tells
an admin how to write the value instead.
"""

from __future__ import annotations

import re
from typing import Any

from balagh.config.values import seconds_problem
from balagh.config.yamlsrc import KeyPath, YamlDoc, known_keys
from balagh.routing.numbers import DEFAULT_COUNTRY_CODE, is_e164, normalise_number

__all__ = ["TOKEN", "known_keys", "number", "positive", "token", "whole"]

# Names go into Queue(<name>,...) and the overflow spec: no commas, spaces, ':' or '|'.
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def token(doc: YamlDoc, key: KeyPath, value: Any) -> str:
    if value is None:
        raise doc.error(key, "missing")
    if isinstance(value, bool):
        raise doc.error(key, f"got {str(value).lower()}: YAML reads bare yes/no/on/off as "
                        "true/false; put the word in quotes, e.g. 'yes'")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise doc.error(key, f"must be a name of letters, digits, '-', '_' or '.', got {value!r}")
    return value


# Priorities go to Asterisk's QUEUE_PRIO (a C int); far beyond any real ordering.
MAX_PRIORITY = 1_000_000


def whole(doc: YamlDoc, key: KeyPath, value: Any, limit: int = MAX_PRIORITY) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(key, f"must be a whole number, got {value!r}")
    if not -limit <= value <= limit:
        raise doc.error(key, f"must be from {-limit} to {limit}, got {value}")
    return value


def positive(doc: YamlDoc, key: KeyPath, value: Any) -> int:
    """Seconds (or a count) above 0 and at most a day: more is a typing mistake."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(key, f"must be a whole number, got {value!r}")
    if problem := seconds_problem(value):
        raise doc.error(key, problem)
    return value


def number(doc: YamlDoc, key: KeyPath, value: Any, *, prefix: bool = False,
           country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """A phone number (or a number prefix) as E.164, a national one in `country_code`'s
    country; must be written as a string."""
    what = "number prefix" if prefix else "phone number"
    if isinstance(value, int) and not isinstance(value, bool):
        # Unquoted, +9714 loses its '+' and 0501234567 is read as an octal number.
        raise doc.error(key, f"put the {what} in quotes, e.g. \"+97141234567\": YAML reads "
                        "unquoted digits as a number")
    if not isinstance(value, str):
        raise doc.error(key, f"must be a {what} in quotes, got {value!r}")
    normal = normalise_number(value, country_code)
    if normal is None or not is_e164(normal) or (not prefix and len(normal) < 8):
        raise doc.error(key, f"not a {what}: {value!r} (write it like \"+97141234567\" or "
                        "\"04 123 4567\")")
    return normal
