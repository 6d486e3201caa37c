"""How each queue's agents take a call: the whisper's language and the optional accept key.

From the `agents:` section of config/handover.yaml, per routing queue:

    agents:
      child-protection:
        language: en          # the whisper in English for this queue (default: agent_language)
        accept:               # the agent presses a key to take the call
          key: "1"
          seconds: 10         # after the whisper; no key in time: the call goes on ringing
        screen: true          # the agents see the report on a screen: for a caller in
                              # danger they hear only "in danger, <age>, <emirate>"

The dialplan reads the result per queue from channel variables (see `queue_variables`):
app_queue moves the caller from queue to queue along the overflow chain, and each queue's
agents hear the whisper in their own language, with their own accept rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from balagh.config.yamlsrc import KeyPath, YamlDoc, known_keys

LANGUAGES = ("ar", "en")
ACCEPT_PROMPT = "w-accept"  # "to take the call, press", then the key's digit prompt
ACCEPT_SECONDS = 10
MAX_ACCEPT_SECONDS = 60  # longer, and app_queue's ring timeout should have moved on long ago
_AGENT_KEYS = ("language", "accept", "screen")
_ACCEPT_KEYS = ("key", "seconds")
_DIGIT = re.compile(r"[0-9]")  # '#' ends Read()'s input and '*' has no prompt to say it
# Dialplan variable names take these; REPLACE(EXTEN,-.,_) in the dialplan does the same.
_NOT_IN_NAME = re.compile(r"[-.]")


@dataclass(frozen=True, slots=True)
class Accept:
    """The key an agent presses to take the call, and how long they have after the whisper."""

    key: str = "1"
    seconds: int = ACCEPT_SECONDS


@dataclass(frozen=True, slots=True)
class QueueAgents:
    language: str | None = None  # None: the installation's agent_language
    accept: Accept | None = None  # None: the call is put through when the agent answers
    # The agents have the report on a screen: a caller in danger is put through after the
    # short whisper (summary.short_whisper_prompts), every second counting.
    screen: bool = False


def variable_suffix(queue: str) -> str:
    """The queue's part of a per-queue variable name, as the dialplan spells it."""
    return _NOT_IN_NAME.sub("_", queue)


def queue_variables(queues: Iterable[str], agents: Mapping[str, QueueAgents],
                    whisper: Mapping[str, str], default_language: str,
                    short: Mapping[str, str] | None = None) -> dict[str, str]:
    """BALAGH_WHISPER_<queue> and BALAGH_ACCEPT_<queue> for every queue the caller may wait in.

    `whisper`: the whisper's files by language ('&'-joined); `short`: the short one, given
    for a caller in danger, played where the queue's agents have the screen. Where agents
    accept with a key, the whisper ends asking for it, and BALAGH_ACCEPT_<queue> is
    "KEY^SECONDS", the arguments of the dialplan's accept subroutine."""
    variables: dict[str, str] = {}
    for queue in dict.fromkeys(queues):
        rule = agents.get(queue, QueueAgents())
        suffix = variable_suffix(queue)
        language = rule.language or default_language
        files = (short if rule.screen and short is not None else whisper)[language]
        if rule.accept is not None:
            files += f"&{language}/balagh/{ACCEPT_PROMPT}&{language}/balagh/digit-{rule.accept.key}"
            variables[f"BALAGH_ACCEPT_{suffix}"] = f"{rule.accept.key}^{rule.accept.seconds}"
        variables[f"BALAGH_WHISPER_{suffix}"] = files
    return variables


def parse_agents(doc: YamlDoc, raw: Any,
                 check_queue: Callable[[str], str | None]) -> dict[str, QueueAgents]:
    """The `agents:` section; `check_queue(queue)` returns a problem with a queue name or None."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise doc.error(("agents",), "must map queue names to their agents' settings")
    agents: dict[str, QueueAgents] = {}
    for queue, item in raw.items():
        queue = str(queue)
        key: KeyPath = ("agents", queue)
        problem = check_queue(queue)
        if problem:
            raise doc.error(key, problem)
        if item is None:
            continue
        if not isinstance(item, dict):
            raise doc.error(key, "must be a mapping with language, accept and/or screen")
        known_keys(doc, key, item, _AGENT_KEYS)
        language = item.get("language")
        if language is not None and language not in LANGUAGES:
            raise doc.error((*key, "language"),
                            f"must be one of {', '.join(LANGUAGES)}, got {language!r}")
        screen = item.get("screen", False)
        if not isinstance(screen, bool):
            raise doc.error((*key, "screen"), f"must be true or false, got {screen!r}")
        agents[queue] = QueueAgents(language=language,
                                    accept=_accept(doc, (*key, "accept"), item.get("accept")),
                                    screen=screen)
    return agents


def _accept(doc: YamlDoc, key: KeyPath, raw: Any) -> Accept | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return Accept()
    if not isinstance(raw, dict):
        raise doc.error(key, "must be true, or a mapping with key and/or seconds")
    known_keys(doc, key, raw, _ACCEPT_KEYS)
    digit = raw.get("key", "1")
    if isinstance(digit, int) and not isinstance(digit, bool):
        digit = str(digit)
    if not isinstance(digit, str) or not _DIGIT.fullmatch(digit):
        raise doc.error((*key, "key"), f"must be one digit, 0-9, got {digit!r}")
    seconds = raw.get("seconds", ACCEPT_SECONDS)
    if isinstance(seconds, bool) or not isinstance(seconds, int) \
            or not 1 <= seconds <= MAX_ACCEPT_SECONDS:
        raise doc.error((*key, "seconds"),
                        f"must be a whole number of seconds from 1 to {MAX_ACCEPT_SECONDS}, "
                        f"got {seconds!r}")
    return Accept(key=digit, seconds=seconds)
