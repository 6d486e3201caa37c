"""`balagh` command line: run the app, manage the sandbox PBX, place test calls."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

from balagh.cli import (
    backup,
    call,
    health,
    ivr,
    monitor,
    outbox,
    pbx,
    report_pack,
    reports,
    routes,
    run,
    sounds,
    stats,
    supervisors,
    watchdog,
)
from balagh.config import Settings, load_settings
from balagh.config.yamlsrc import ConfigError
from balagh.logs import set_caller_numbers, setup_logging
from balagh.store.permissions import private_umask
from balagh.store.schema import SchemaError

# Each command group adds its parser(s) and sets `func(settings, args) -> exit status`.
COMMANDS = (run, watchdog, pbx, call, reports, stats, report_pack, sounds, ivr, routes,
            supervisors, monitor, outbox, health, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balagh", description=__doc__)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {metadata.version('balagh')}")
    parser.add_argument("--config", type=Path, help="service settings (default config/balagh.yaml)")
    parser.add_argument("--log-level", help="debug, info, warning (default: info for run, "
                        "watchdog and pbx, warning otherwise)")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


# Commands whose files Asterisk (another user on a real PBX) must read: these keep the
# caller's umask. Every other command creates only Balagh's own, private files.
SHARED_FILES_COMMANDS = ("pbx", "sounds")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in SHARED_FILES_COMMANDS:
        private_umask()
    level = args.log_level or ("info" if args.command in ("run", "watchdog", "pbx") else "warning")
    setup_logging(level, json=args.log_json)
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        set_caller_numbers(settings.log_caller_numbers)
        status: int = args.func(settings, args)
        return status
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


__all__ = ["build_parser", "main"]
