"""`balagh` command line: run the app, manage the sandbox PBX, place test calls."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

from balagh.config import Settings, load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.logs import set_caller_numbers, setup_logging
from balagh.store.permissions import private_umask
from balagh.store.schema import SchemaError

# Each command module (balagh.cli.<module>) adds its parser with `register(subparsers)`
# and sets `func(settings, args) -> exit status`. A command's module is imported only
# when that command runs (or for --help without one): importing them all (the ARI app,
# the store's queries, ...) cost most of a second at every start. Module: command name.
COMMANDS: dict[str, str] = {
    "run": "run", "watchdog": "watchdog", "pbx": "pbx", "call": "call",
    "reports": "reports", "stats": "stats", "report_pack": "report-pack",
    "sounds": "sounds", "ivr": "ivr", "routes": "routes", "supervisors": "supervisors",
    "monitor": "monitor", "outbox": "outbox", "health": "health", "backup": "backup",
    "console": "console", "users": "users", "callers": "callers", "config": "config",
    "db": "db",
}
# Top-level options that take a value (the word after them is not the command).
_VALUED_OPTIONS = ("--config", "--log-level")


class _Version(argparse.Action):
    """--version, reading the installed version only when asked (importlib.metadata is
    slow to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from importlib import metadata

        print(f"{parser.prog} {metadata.version('balagh')}")
        parser.exit()


def command_of(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is not an option), if any."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return None
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command` (a known one), only that command's parser is added."""
    parser = argparse.ArgumentParser(prog="balagh", description=__doc__)
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="service settings; without it: $BALAGH_CONFIG, else "
                        "/etc/balagh/balagh.yaml, else the shipped defaults (read-only); "
                        "`balagh config where` shows the files in use")
    parser.add_argument("--log-level", help="debug, info, warning (default: info for run, "
                        "watchdog and pbx, warning otherwise)")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines")
    sub = parser.add_subparsers(dest="command", required=True)
    only = command if command in COMMANDS.values() else None
    for module, name in COMMANDS.items():
        if only is None or name == only:
            import_module(f"balagh.cli.{module}").register(sub)
    return parser


# Commands whose files Asterisk (another user on a real PBX) must read: these keep the
# caller's umask. Every other command creates only Balagh's own, private files.
SHARED_FILES_COMMANDS = ("pbx", "sounds")


def main(argv: list[str] | None = None) -> int:
    args = build_parser(command_of(sys.argv[1:] if argv is None else argv)).parse_args(argv)
    if args.command not in SHARED_FILES_COMMANDS:
        private_umask()
    services = ("run", "watchdog", "pbx", "console")
    level = args.log_level or ("info" if args.command in services else "warning")
    setup_logging(level, json=args.log_json)
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        set_caller_numbers(settings.log_caller_numbers)
        status: int = args.func(settings, args)
        sys.stdout.flush()  # here, so a reader gone away is met below, not at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except (ConfigError, SchemaError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:  # one line, not a traceback, for a damaged file
        where = settings.database if settings is not None else "the report database"
        print(f"error: {where}: {exc}: not a usable Balagh database; restore it from a "
              "backup, or move it away to start an empty one", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line error for known operational failures
        from balagh.ami.client import AmiError
        from balagh.pbx.sandbox import SandboxError

        if isinstance(exc, SandboxError | AmiError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


# 128 + SIGPIPE: what a shell reports for a command whose reader (`| head`) went away.
EXIT_READER_GONE = 141


def _reader_gone() -> int:
    """stdout's reader closed the pipe (`balagh reports --format csv | head`): end quietly.

    What is still buffered goes to /dev/null, so the flush at exit raises nothing either.
    """
    try:
        stdout = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a stream with no descriptor (tests)
        return EXIT_READER_GONE
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stdout)
    finally:
        os.close(devnull)
    return EXIT_READER_GONE


__all__ = ["COMMANDS", "EXIT_READER_GONE", "build_parser", "command_of", "main"]
