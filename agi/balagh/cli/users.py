"""`balagh users add|passwd|remove|list`: who may log in to the web console.

Passwords are read from a prompt (or one line of stdin with --password-stdin), never
from the command line (argv is visible to every user of the machine), and stored only
as scrypt hashes in the console's own database (console.sqlite3 in the data folder).
A supervisor account names its supervisors.yaml entry: its queues, its phone, the audit.
An agent account names its queue member interface (--member PJSIP/agent1): its page shows
the calls that ring that member, nothing else.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from balagh.config import Settings


def _password(args: argparse.Namespace) -> str | None:
    from balagh.console.passwords import password_problem

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return None
    if problem := password_problem(password):
        print(f"error: {problem}", file=sys.stderr)
        return None
    return password


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.console.accounts import AccountError, Accounts
    from balagh.supervise.load import load_supervisors

    accounts = Accounts(settings.console_database)
    try:
        if args.action == "list":
            for user in accounts.users():
                print(f"{user.name}\t{user.role}\t{user.supervisor or user.member or '-'}")
            return 0
        if not args.name:
            print("error: give a user name", file=sys.stderr)
            return 2
        if args.action == "remove":
            accounts.remove(args.name)
            print(f"removed {args.name}")
            return 0
        if args.action == "add":
            if args.role == "supervisor" and not args.supervisor:
                print("error: a supervisor account needs --supervisor NAME (supervisors.yaml)",
                      file=sys.stderr)
                return 2
            if (args.role == "agent") != bool(args.member):
                print("error: an agent account needs --member INTERFACE (e.g. PJSIP/agent1),"
                      " and only an agent account takes one", file=sys.stderr)
                return 2
            if args.supervisor and load_supervisors(settings.supervisors_file).get(
                    args.supervisor) is None:
                print(f"error: no supervisor {args.supervisor!r} in "
                      f"{settings.supervisors_file} (`balagh supervisors add` first)",
                      file=sys.stderr)
                return 1
        password = _password(args)
        if password is None:
            return 1
        if args.action == "add":
            accounts.add(args.name, password, args.role, args.supervisor, args.member)
            print(f"added {args.name} ({args.role})")
        else:
            accounts.set_password(args.name, password)
            print(f"changed the password of {args.name}; their sessions are closed")
        return 0
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "users", help="web console users: add, passwd, remove, list",
        description="balagh users add NAME --role supervisor --supervisor SUPERVISOR; "
        "balagh users add NAME --role agent --member PJSIP/agent1; "
        "balagh users passwd NAME; balagh users remove NAME; balagh users list")
    parser.add_argument("action", choices=["add", "passwd", "remove", "list"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--role", choices=["supervisor", "admin", "agent"], default="supervisor")
    parser.add_argument("--supervisor", metavar="NAME",
                        help="their entry in supervisors.yaml (queues, phone, audit)")
    parser.add_argument("--member", metavar="INTERFACE",
                        help="an agent's queue member interface, as in queues.conf "
                        "(PJSIP/agent1): the calls that ring it show on their page")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from one line of standard input")
    parser.set_defaults(func=_users)
