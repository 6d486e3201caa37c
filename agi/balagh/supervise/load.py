"""config/supervisors.yaml: load it (every problem names file, line and key) and save it.

The file is managed with `balagh supervisors add|passwd|remove`, which write it
back whole; it holds only PIN hashes, never PINs, and is kept mode 0600.
A missing file is an empty table: nobody may monitor.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from balagh.config.atomicfile import replace_file
from balagh.config.values import queue_name_problem
from balagh.config.yamlsrc import KeyPath, YamlDoc, known_keys, load_optional_mapping

from .model import Supervisor, SupervisorTable
from .pins import is_pin_hash

__all__ = ["HEADER", "load_supervisors", "phone_problem", "queue_problem", "save_supervisors"]

_TOP_KEYS = ("lockout", "supervisors")
_LOCKOUT_KEYS = ("attempts", "minutes")
_SUPERVISOR_KEYS = ("name", "phones", "pin", "queues")
ALL = "all"
# More wrong PINs than this is no lockout; longer than a week locks out for good by mistake.
MAX_LOCKOUT_ATTEMPTS = 100
MAX_LOCKOUT_MINUTES = 7 * 24 * 60

# An extension or caller number ("201", "+97141234567"), or TECH/endpoint ("PJSIP/sup1").
_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_ENDPOINT = re.compile(r"[A-Za-z][A-Za-z0-9]*/[A-Za-z0-9_.@+-]+")

HEADER = """\
# Supervisors who may listen in on, whisper to and barge into bridged calls.
#
# Managed with `balagh supervisors add|passwd|remove|list`; this file is written back whole.
# The pins are scrypt hashes, never the PINs themselves: set or change a PIN with
# `balagh supervisors passwd NAME`. Keep this file private (mode 0600).
#
# phones: extension / caller numbers ("201") or PJSIP endpoints ("PJSIP/sup1").
# queues: routing queue names (config/routing.yaml), or `all`.
# lockout: this many wrong PINs in a row lock a supervisor out for these minutes.
"""


def phone_problem(phone: object) -> str | None:
    """What is wrong with a phone as written, or None."""
    if isinstance(phone, int) and not isinstance(phone, bool):
        return f"put the phone in quotes, e.g. \"{phone}\": YAML reads unquoted digits as a number"
    if not isinstance(phone, str) or not (_NUMBER.fullmatch(phone)
                                          or _ENDPOINT.fullmatch(phone)):
        return (f"not a phone: {phone!r} (write an extension or caller number such as "
                "\"201\", or an endpoint such as \"PJSIP/sup1\")")
    return None


def queue_problem(queue: object, known_queues: frozenset[str] | None = None) -> str | None:
    """What is wrong with a queue name, or None."""
    if problem := queue_name_problem(queue):
        return problem
    if known_queues is not None and queue not in known_queues:
        return f"unknown queue '{queue}' (known: {', '.join(sorted(known_queues))})"
    return None


def load_supervisors(path: str | Path,
                     known_queues: frozenset[str] | None = None) -> SupervisorTable:
    """The supervisors in `path`; an empty table if there is no such file.

    With `known_queues` (the routing table's), every queue named must be one of them."""
    path = Path(path)
    loaded = load_optional_mapping(path, _TOP_KEYS, "lockout and supervisors")
    if loaded is None:
        return SupervisorTable(source=path)
    doc, top = loaded
    attempts, minutes = _lockout(doc, top.get("lockout"))
    raw = top.get("supervisors")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise doc.error(("supervisors",), "must be a list of supervisors")
    supervisors: list[Supervisor] = []
    names: dict[str, int] = {}
    phones: dict[str, tuple[str, int]] = {}
    for index, item in enumerate(raw):
        key: KeyPath = ("supervisors", index)
        supervisor = _supervisor(doc, key, item, known_queues)
        folded = supervisor.name.casefold()
        if folded in names:
            raise doc.error((*key, "name"), f"supervisor '{supervisor.name}' is listed twice "
                            f"(first at supervisors[{names[folded]}])")
        names[folded] = index
        for phone_index, phone in enumerate(item["phones"]):
            if phone in phones:
                owner, _ = phones[phone]
                raise doc.error((*key, "phones", phone_index),
                                f"phone '{phone}' is already {owner}'s")
            phones[phone] = (supervisor.name, index)
        supervisors.append(supervisor)
    return SupervisorTable(tuple(supervisors), attempts, minutes, path)


def _lockout(doc: YamlDoc, raw: Any) -> tuple[int, float]:
    default = SupervisorTable()
    if raw is None:
        return default.lockout_attempts, default.lockout_minutes
    if not isinstance(raw, dict):
        raise doc.error(("lockout",), "must be a mapping like {attempts: 5, minutes: 15}")
    known_keys(doc, ("lockout",), raw, _LOCKOUT_KEYS)
    attempts = raw.get("attempts", default.lockout_attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) \
            or not 1 <= attempts <= MAX_LOCKOUT_ATTEMPTS:
        raise doc.error(("lockout", "attempts"), f"must be a whole number from 1 to "
                        f"{MAX_LOCKOUT_ATTEMPTS}, got {attempts!r}")
    minutes = raw.get("minutes", default.lockout_minutes)
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) \
            or not 0 < minutes <= MAX_LOCKOUT_MINUTES:
        raise doc.error(("lockout", "minutes"), f"must be a number of minutes above 0 and "
                        f"at most {MAX_LOCKOUT_MINUTES}, got {minutes!r}")
    return attempts, float(minutes)


def _supervisor(doc: YamlDoc, key: KeyPath, raw: Any,
                known_queues: frozenset[str] | None) -> Supervisor:
    if not isinstance(raw, dict):
        raise doc.error(key, "must be a mapping with " + ", ".join(_SUPERVISOR_KEYS))
    known_keys(doc, key, raw, _SUPERVISOR_KEYS)
    for name in _SUPERVISOR_KEYS:
        if raw.get(name) is None:
            raise doc.error((*key, name), "missing" + _MISSING_HINTS[name])
    name = raw["name"]
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise doc.error((*key, "name"), f"must be a name in words, got {name!r}")
    phones = raw["phones"]
    if not isinstance(phones, list) or not phones:
        raise doc.error((*key, "phones"),
                        "must be a list of phones, e.g. [\"201\", \"PJSIP/sup1\"]")
    seen: set[str] = set()
    for index, phone in enumerate(phones):
        problem = phone_problem(phone)
        if problem is None and phone in seen:
            problem = f"phone '{phone}' is listed twice"
        if problem:
            raise doc.error((*key, "phones", index), problem)
        seen.add(phone)
    pin = raw["pin"]
    if not is_pin_hash(pin):
        raise doc.error((*key, "pin"), f"not a PIN hash: store only a hash; use "
                        f"`balagh supervisors passwd {name}`")
    return Supervisor(name=name, phones=frozenset(seen), pin_hash=pin,
                      queues=_queues(doc, (*key, "queues"), raw["queues"], known_queues))


_MISSING_HINTS = {
    "name": "",
    "phones": ": the phones this supervisor calls from, e.g. [\"201\"]",
    "pin": ": set one with `balagh supervisors passwd NAME`",
    "queues": ": a list of the queues this supervisor may monitor, or all",
}


def _queues(doc: YamlDoc, key: KeyPath, raw: Any,
            known_queues: frozenset[str] | None) -> frozenset[str] | None:
    if raw == ALL:
        return None
    if not isinstance(raw, list) or not raw:
        raise doc.error(key, f"must be a list of queue names, or {ALL}, got {raw!r}")
    queues: set[str] = set()
    for index, queue in enumerate(raw):
        problem = queue_problem(queue, known_queues)
        if problem is None and queue in queues:
            problem = f"queue '{queue}' is listed twice"
        if problem:
            raise doc.error((*key, index), problem)
        queues.add(queue)
    return frozenset(queues)


# ------------------------------------------------------------------------ save


def _data(table: SupervisorTable) -> dict[str, Any]:
    minutes = table.lockout_minutes
    return {
        "lockout": {"attempts": table.lockout_attempts,
                    "minutes": int(minutes) if float(minutes).is_integer() else minutes},
        "supervisors": [
            {"name": s.name, "phones": sorted(s.phones), "pin": s.pin_hash,
             "queues": ALL if s.queues is None else sorted(s.queues)}
            for s in table.supervisors
        ],
    }


def save_supervisors(table: SupervisorTable, path: str | Path) -> None:
    """Write `table` to `path`: whole, atomically (a reader sees the old or the new
    file, never half), mode 0600; a file that is there keeps its owner and group and
    their read bits (the package's 0640 root:balagh stays readable by the service), never
    others'."""
    body = yaml.safe_dump(_data(table), sort_keys=False, allow_unicode=True,
                          default_flow_style=None, width=100)
    replace_file(Path(path), HEADER + "\n" + body, 0o600, kept_bits=0o640)
