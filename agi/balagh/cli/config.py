"""`balagh config init [--dir D] [--force]` and `balagh config where`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from balagh.cli.common import table_lines
from balagh.config import Settings
from balagh.config.lookup import ETC_DIR

__all__ = ["register"]


def _init(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.config.starter import StarterExists, write_starter

    folder = args.dir or Path(os.environ.get("BALAGH_ETC_DIR") or ETC_DIR)
    try:
        written = write_starter(folder, data_dir=args.data_dir, force=args.force)
    except StarterExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write {exc.filename or folder}: {exc.strerror}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"data folder in it: {args.data_dir}; prompts: the shipped ones. Edit the files, "
          "then `balagh config where` and `balagh ivr check`.")
    if folder.resolve() != ETC_DIR:
        print(f"this folder is read only with --config {folder / 'balagh.yaml'} or "
              f"BALAGH_CONFIG={folder / 'balagh.yaml'}")
    return 0


def _where(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.config.where import files_in_use

    rows = [("file", "path", "from")]
    for found in files_in_use(settings, os.environ):
        if found.path is None:
            path = "(none: secrets from the environment only)"
        else:
            path = os.path.normpath(found.path) + ("" if found.exists else "  MISSING")
        rows.append((found.name, path, found.origin))
    for line in table_lines(rows):
        print(line.rstrip())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config", help="write a starter /etc/balagh, or show where each file in use comes from",
        description="Settings are read from --config FILE, else $BALAGH_CONFIG, else "
        "/etc/balagh/balagh.yaml, else the shipped defaults inside the package (read-only: "
        "commands that write refuse them).")
    actions = parser.add_subparsers(dest="action", required=True)
    init = actions.add_parser(
        "init", help="write a starter configuration folder (default /etc/balagh)",
        description="Writes balagh.yaml, ivr.yaml, routing.yaml, locations.yaml, "
        "handover.yaml and supervisors.yaml (mode 0640), with paths that work from there.")
    init.add_argument("--dir", type=Path, help="the folder (default /etc/balagh)")
    init.add_argument("--data-dir", type=Path, default=Path("/var/lib/balagh"),
                      help="the data folder written into balagh.yaml (default /var/lib/balagh)")
    init.add_argument("--force", action="store_true",
                      help="overwrite files that exist (each keeps its owner)")
    init.set_defaults(func=_init)
    where = actions.add_parser("where", help="each file in use and where it came from")
    where.set_defaults(func=_where)
