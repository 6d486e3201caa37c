"""Checks for values several config files share: queue names, URLs, ports, bounds.

One rule per kind of value, so routing.yaml, ivr.yaml, handover.yaml, supervisors.yaml,
queues.conf and balagh.yaml accept and refuse the same things. Each returns what is
wrong (for the loader's one-line ConfigError), or None.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

# The dialplan sends a caller on with Goto(balagh-queue,NAME,1), matched by the pattern
# `_[a-z].`: a lowercase letter, then at least one more character. Letters, digits and
# '-' keep the name also valid in queues.conf ([balagh-NAME]) and channel variables.
QUEUE_NAME = re.compile(r"[a-z][a-z0-9-]{1,62}")
QUEUE_NAME_RULE = ("a lowercase letter, then lowercase letters, digits or '-' "
                   "(2 to 63 characters)")

# Waits and timeouts longer than a day are typing mistakes (milliseconds, extra digits).
MAX_WAIT_SECONDS = 24 * 3600


def queue_name_problem(queue: object) -> str | None:
    if not isinstance(queue, str) or not QUEUE_NAME.fullmatch(queue):
        return f"a queue name is {QUEUE_NAME_RULE}, as the dialplan's _[a-z]. pattern " \
               f"matches, got {queue!r}"
    return None


def url_problem(url: object, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """A URL with one of `schemes`, a host, and a valid port if it names one."""
    want = " or ".join(f"{scheme}://" for scheme in schemes)
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        return f"must be an {want} URL, got {url!r}"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return f"must be an {want} URL with a valid host and port, got {url!r}"
    if parts.scheme not in schemes or not parts.hostname:
        return f"must be an {want} URL, got {url!r}"
    if port == 0:
        return f"port must be 1 to 65535, got {url!r}"
    return None


def port_problem(port: int) -> str | None:
    if not 1 <= port <= 65535:
        return f"must be a port from 1 to 65535, got {port}"
    return None


def listen_problem(value: str) -> str | None:
    """What is wrong with a metrics listener `host:port` ("" is off), or None."""
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit():
        return f"must be host:port (127.0.0.1:9464) or empty, got {value!r}"
    if problem := port_problem(int(port)):
        return problem
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        return (f"must be on a loopback address (127.0.0.1, ::1), got {value!r}: the "
                "metrics say how many callers wait in danger; scrape through a proxy")
    return None


def seconds_problem(seconds: int, maximum: int = MAX_WAIT_SECONDS) -> str | None:
    if seconds <= 0:
        return f"must be a number of seconds above 0, got {seconds}"
    if seconds > maximum:
        return f"must be at most {maximum} seconds, got {seconds}"
    return None


__all__ = ["MAX_WAIT_SECONDS", "QUEUE_NAME", "QUEUE_NAME_RULE", "ids_problem", "port_problem",
           "queue_name_problem", "seconds_problem", "url_problem"]


def timezone_problem(name: object) -> str | None:
    """An IANA zone name the system's zone database knows ("Asia/Dubai")."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        return f"must be a time zone name such as Asia/Dubai, got {name!r}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return (f"unknown time zone {name!r} (use an IANA name such as Asia/Dubai or "
                "Europe/London)")
    return None


def country_code_problem(code: object) -> str | None:
    """A country calling code that exists ("971", not "+971" nor "0971")."""
    text = str(code)
    if not text.isdigit() or text.startswith("0") or \
            phonenumbers.region_code_for_country_code(int(text)) == "ZZ":
        return f"must be a country calling code without '+' such as \"971\", got {code!r}"
    return None


def ids_problem(entries: object) -> str | None:
    """Why `entries` is not a non-empty list of ids (a-z, 0-9, -; their words are
    texts.py's), or None."""
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return "must be a list of ids, e.g. [genuine, silent, prank]"
    found = [e.strip() for e in entries if e.strip()]
    bad = [e for e in found if len(e) > 32 or
           not all(c.islower() or c.isdigit() or c == "-" for c in e)]
    if bad or not found:
        return f"must be a non-empty list of ids (a-z, 0-9, -), got {entries!r}"
    return None
