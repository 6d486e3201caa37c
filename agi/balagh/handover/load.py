"""config/handover.yaml: which units' endpoints receive which queue's report events.

Every problem names file, line and key. Secrets are named in the YAML, never written
there: `secret: CHILD_UNIT_HOOK` takes its value from BALAGH_SECRET_CHILD_UNIT_HOOK in
the environment or the secrets file. A missing file means no endpoints.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from balagh.config import SECRET_PREFIX
from balagh.config.values import queue_name_problem, url_problem
from balagh.config.yamlsrc import KeyPath, YamlDoc, known_keys, load_optional_mapping

from .agents import QueueAgents, parse_agents
from .document import EVENTS

__all__ = ["ANY_QUEUE", "Endpoint", "HandoverConfig", "load_handover"]

ANY_QUEUE = "*"
_TOP_KEYS = ("endpoints", "agents")
_ENDPOINT_KEYS = ("url", "secret", "events")
_SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One unit's receiver: where to POST, the key to sign with, which events it wants."""

    url: str
    secret: str = field(repr=False)  # the resolved value, never the name
    events: frozenset[str] = frozenset(EVENTS)
    # The NAME of its secret: who a unit is when it writes back (reachback/followup_api.py).
    secret_name: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class HandoverConfig:
    """Endpoints by queue name ("*": every queue), and how each queue's agents take calls."""

    endpoints: Mapping[str, tuple[Endpoint, ...]] = field(default_factory=dict)
    source: Path | None = None
    agents: Mapping[str, QueueAgents] = field(default_factory=dict)

    def endpoints_for(self, queue: str) -> list[Endpoint]:
        """The queue's own endpoints, then those for every queue."""
        own = self.endpoints.get(queue, ()) if queue != ANY_QUEUE else ()
        return [*own, *self.endpoints.get(ANY_QUEUE, ())]

    def endpoint(self, url: str) -> Endpoint | None:
        """The endpoint at `url` (one URL has one secret across the file), or None."""
        for endpoints in self.endpoints.values():
            for endpoint in endpoints:
                if endpoint.url == url:
                    return endpoint
        return None


def load_handover(path: str | Path, known_queues: frozenset[str] | None = None,
                  secrets: Mapping[str, str] | None = None) -> HandoverConfig:
    """The endpoints in `path`; none if there is no such file.

    `known_queues` (the routing table's): every queue named must be one of them.
    `secrets`: variables holding the secrets' values, BALAGH_SECRET_<NAME> (default the
    environment; config.secret_values adds the secrets file)."""
    path = Path(path)
    loaded = load_optional_mapping(path, _TOP_KEYS, "endpoints and/or agents")
    if loaded is None:
        return HandoverConfig(source=path)
    doc, top = loaded
    agents = parse_agents(doc, top.get("agents"),
                          lambda queue: _queue_problem(queue, known_queues, any_queue=False))
    raw = top.get("endpoints")
    if raw is None:
        return HandoverConfig(source=path, agents=agents)
    if not isinstance(raw, dict):
        raise doc.error(("endpoints",), "must map queue names (or \"*\") to lists of endpoints")
    values = os.environ if secrets is None else secrets
    endpoints: dict[str, tuple[Endpoint, ...]] = {}
    secret_of: dict[str, tuple[str, str]] = {}  # url -> (secret name, where first given)
    for queue, items in raw.items():
        queue = str(queue)
        key: KeyPath = ("endpoints", queue)
        problem = _queue_problem(queue, known_queues)
        if problem:
            raise doc.error(key, problem)
        if items is None:
            continue
        if not isinstance(items, list):
            raise doc.error(key, "must be a list of endpoints, each with url and secret")
        found: list[Endpoint] = []
        for index, item in enumerate(items):
            endpoint, name = _endpoint(doc, (*key, index), item, values)
            if any(e.url == endpoint.url for e in found):
                raise doc.error((*key, index, "url"), f"{endpoint.url} is listed twice here")
            first = secret_of.setdefault(endpoint.url, (name, f"{queue}[{index}]"))
            if first[0] != name:
                raise doc.error((*key, index, "secret"), f"{endpoint.url} is signed with "
                                f"{first[0]} at endpoints.{first[1]}: one URL, one secret")
            found.append(endpoint)
        endpoints[queue] = tuple(found)
    return HandoverConfig(endpoints, path, agents)


def _queue_problem(queue: str, known_queues: frozenset[str] | None,
                   any_queue: bool = True) -> str | None:
    star = ', or "*"' if any_queue else ""
    if queue == ANY_QUEUE and any_queue:
        return None
    if problem := queue_name_problem(queue):
        return problem + star
    if known_queues is not None and queue not in known_queues:
        return f"unknown queue '{queue}' (known: {', '.join(sorted(known_queues))}{star})"
    return None


def _endpoint(doc: YamlDoc, key: KeyPath, raw: Any,
              secrets: Mapping[str, str]) -> tuple[Endpoint, str]:
    if not isinstance(raw, dict):
        raise doc.error(key, "must be a mapping with url, secret and optionally events")
    known_keys(doc, key, raw, _ENDPOINT_KEYS)
    for name in ("url", "secret"):
        if raw.get(name) is None:
            raise doc.error((*key, name), "missing")
    url = raw["url"]
    if problem := url_problem(url) or _plain_http_problem(url):
        raise doc.error((*key, "url"), problem)
    name = raw["secret"]
    if not isinstance(name, str) or not _SECRET_NAME.fullmatch(name):
        raise doc.error((*key, "secret"), "must be the NAME of a secret in capitals, digits and "
                        "_ (e.g. CHILD_UNIT_HOOK), never its value")
    value = secrets.get(SECRET_PREFIX + name, "")
    if not value:
        raise doc.error((*key, "secret"), f"no value for secret {name}: set "
                        f"{SECRET_PREFIX}{name} in the environment or the secrets file")
    return Endpoint(url=url, secret=value, events=_events(doc, (*key, "events"),
                                                          raw.get("events")),
                    secret_name=name), name


def _plain_http_problem(url: str) -> str | None:
    """Reports travel encrypted: http:// only to this machine (a receiver beside the app,
    or a TLS proxy on loopback), anything else https://."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return None
    host = parts.hostname or ""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"must be https:// (the report is what a caller said about people in danger); "
            f"http:// only to 127.0.0.1, ::1 or localhost, got {url!r}")


def _events(doc: YamlDoc, key: KeyPath, raw: Any) -> frozenset[str]:
    if raw is None:
        return frozenset(EVENTS)
    if not isinstance(raw, list) or not raw:
        raise doc.error(key, f"must be a list of events from {', '.join(EVENTS)}")
    events: set[str] = set()
    for index, event in enumerate(raw):
        if event not in EVENTS:
            raise doc.error((*key, index), f"unknown event {event!r} (known: {', '.join(EVENTS)})")
        if event in events:
            raise doc.error((*key, index), f"event '{event}' is listed twice")
        events.add(event)
    return frozenset(events)
