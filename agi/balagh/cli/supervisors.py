"""`balagh supervisors add | passwd | remove | list`: who may listen in on calls.

Edits the `supervisors_file` of the settings in use (/etc/balagh/supervisors.yaml after
`balagh config init`); never the shipped one inside the package. A PIN is asked twice
with getpass, or read as one line from stdin with --pin-stdin; only its scrypt hash
is written. Nothing here ever prints a hash.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace

from balagh.cli.common import table_lines
from balagh.cli.confirm import Refused, add_yes_argument, confirm
from balagh.config import Settings, is_shipped
from balagh.config.yamlsrc import ConfigError
from balagh.supervise.load import ALL, load_supervisors, phone_problem, queue_problem
from balagh.supervise.load import save_supervisors as save
from balagh.supervise.model import Supervisor, SupervisorTable
from balagh.supervise.pins import hash_pin, valid_pin

__all__ = ["read_pin", "register"]


class _Refused(Exception):
    """A one-line error for the admin; the command exits 1."""


def read_pin(from_stdin: bool) -> str:
    """The new PIN: one line of stdin, or typed twice without echo."""
    if from_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("PIN (4 to 8 digits): ")
        if getpass.getpass("PIN again: ") != pin:
            raise _Refused("the two PINs differ; nothing changed")
    if not valid_pin(pin):
        raise _Refused("a PIN is 4 to 8 digits 0-9; nothing changed")
    return pin


def _queues(text: str, settings: Settings) -> frozenset[str] | None:
    if text.strip() == ALL:
        return None
    queues = frozenset(part.strip() for part in text.split(",") if part.strip())
    if not queues:
        raise _Refused(f"--queues: give queue names separated by commas, or {ALL}")
    known = _routing_queues(settings)
    for queue in sorted(queues):
        problem = queue_problem(queue, known)
        if problem:
            raise _Refused(f"--queues: {problem}")
    return queues


def _routing_queues(settings: Settings) -> frozenset[str] | None:
    """The routing table's queues, to check names against; None if it does not load."""
    from balagh.routing.load import load_table

    try:
        return frozenset(load_table(settings.routing_file).queues)
    except ConfigError as exc:
        print(f"warning: queue names not checked: {exc}", file=sys.stderr)
        return None


def _phones(phones: list[str], table: SupervisorTable, name: str) -> frozenset[str]:
    for phone in phones:
        problem = phone_problem(phone)
        if problem:
            raise _Refused(f"--phone: {problem}")
        owner = table.find(phone)
        if owner is not None and owner.name != name:
            raise _Refused(f"--phone: phone '{phone}' is already {owner.name}'s")
    return frozenset(phones)


def _describe(supervisor: Supervisor) -> str:
    queues = ALL if supervisor.queues is None else ", ".join(sorted(supervisor.queues))
    return f"phones {', '.join(sorted(supervisor.phones))}; queues {queues}"


def _add(settings: Settings, table: SupervisorTable, args: argparse.Namespace) -> str:
    name = args.name.strip()
    if not name:
        raise _Refused("give the supervisor a name")
    if any(s.name.casefold() == name.casefold() for s in table.supervisors):
        raise _Refused(f"supervisor '{name}' exists already; use `balagh supervisors passwd "
                       f"{name}` to change the PIN, or remove it first")
    phones = _phones(args.phone, table, name)
    queues = _queues(args.queues, settings)
    supervisor = Supervisor(name=name, phones=phones, pin_hash=hash_pin(read_pin(args.pin_stdin)),
                            queues=queues)
    save(replace(table, supervisors=(*table.supervisors, supervisor)), settings.supervisors_file)
    return f"added supervisor {name} ({_describe(supervisor)})"


def _passwd(settings: Settings, table: SupervisorTable, args: argparse.Namespace) -> str:
    old = _existing(table, args.name)
    new = replace(old, pin_hash=hash_pin(read_pin(args.pin_stdin)))
    supervisors = tuple(new if s is old else s for s in table.supervisors)
    save(replace(table, supervisors=supervisors), settings.supervisors_file)
    return f"changed the PIN of {old.name}"


def _remove(settings: Settings, table: SupervisorTable, args: argparse.Namespace) -> str:
    old = _existing(table, args.name)
    try:  # they lose every monitoring right at once: asked, like the deleting commands
        confirm(f"remove supervisor {old.name} ({_describe(old)})", yes=args.yes)
    except Refused as exc:
        raise _Refused(str(exc).removeprefix("error: ")) from None
    supervisors = tuple(s for s in table.supervisors if s is not old)
    save(replace(table, supervisors=supervisors), settings.supervisors_file)
    return f"removed supervisor {old.name}"


def _existing(table: SupervisorTable, name: str) -> Supervisor:
    supervisor = table.get(name)
    if supervisor is None:
        known = ", ".join(table.names) or "none yet"
        raise _Refused(f"no supervisor '{name}' (known: {known})")
    return supervisor


def _list(table: SupervisorTable) -> None:
    if not table.supervisors:
        print(f"no supervisors in {table.source}: nobody may monitor calls")
        return
    rows = [("name", "phones", "queues")]
    rows += [(s.name, ", ".join(sorted(s.phones)),
              ALL if s.queues is None else ", ".join(sorted(s.queues)))
             for s in table.supervisors]
    for line in table_lines(rows):
        print(line.rstrip())
    print(f"lockout: {table.lockout_attempts} wrong PINs in a row lock a supervisor out for "
          f"{table.lockout_minutes:g} minutes")


_ACTIONS = {"add": _add, "passwd": _passwd, "remove": _remove}


def _supervisors(settings: Settings, args: argparse.Namespace) -> int:
    table = load_supervisors(settings.supervisors_file)  # a ConfigError is main's one line
    if args.action == "list":
        _list(table)
        return 0
    if is_shipped(settings.supervisors_file):  # an upgrade would lose it silently
        print(f"error: {settings.supervisors_file} is a shipped default, read-only; run "
              "`balagh config init` to make /etc/balagh (or set supervisors_file in your "
              "own balagh.yaml), then try again; nothing changed", file=sys.stderr)
        return 1
    try:
        message = _ACTIONS[args.action](settings, table, args)
    except _Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {settings.supervisors_file}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{message}; {settings.supervisors_file} written")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "supervisors", help="add, remove or list the supervisors who may listen in on calls",
        description="Manage the supervisors_file (`balagh config where` shows it). PINs "
        "are asked twice (or read from stdin with --pin-stdin) and stored only as hashes.")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a supervisor, with a new PIN")
    add.add_argument("name")
    add.add_argument("--phone", action="append", required=True,
                     help="an extension or caller number (201) or an endpoint (PJSIP/sup1); "
                     "repeat for several")
    add.add_argument("--queues", required=True,
                     help="queues this supervisor may monitor, comma separated, or all")
    passwd = actions.add_parser("passwd", help="set a new PIN")
    passwd.add_argument("name")
    for sub in (add, passwd):
        sub.add_argument("--pin-stdin", action="store_true",
                         help="read the PIN as one line from stdin (for scripts)")
    remove = actions.add_parser("remove", help="remove a supervisor")
    remove.add_argument("name")
    add_yes_argument(remove)
    actions.add_parser("list", help="the supervisors, their phones and queues (never PINs)")
    parser.set_defaults(func=_supervisors)
