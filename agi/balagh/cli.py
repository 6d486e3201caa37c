"""`balagh` command line: run the app, manage the sandbox PBX, place test calls."""

from __future__ import annotations

import argparse
import asyncio
import sys
from importlib import metadata
from pathlib import Path

from balagh.config import Settings, load_settings
from balagh.ivr_cli import add_parser as add_ivr_parser
from balagh.logs import setup_logging
from balagh.reload_cli import add_actions as add_reload_actions
from balagh.routes_cli import add_parser as add_routes_parser
from balagh.sounds_cli import add_parser as add_sounds_parser
from balagh.yamlsrc import ConfigError


def _cmd_pbx(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.pbx.sandbox import Sandbox

    sandbox = Sandbox(settings)
    if args.action == "install":
        built = sandbox.install(force=args.force)
        print(f"sandbox PBX {'installed' if built else 'already installed'} in {sandbox.root}")
    elif args.action == "start":
        started = sandbox.start()
        print(f"Asterisk {'started' if started else 'reloaded'}; ARI at {settings.ari.url}")
    elif args.action == "stop":
        print("Asterisk stopped" if sandbox.stop() else "Asterisk was not running")
    else:
        status = sandbox.status()
        width = max(len(k) for k in status)
        for key, value in status.items():
            print(f"{key:<{width}}  {value}")
        return 0 if status["running"] == "yes" else 3
    return 0


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.app import run_app

    return asyncio.run(run_app(settings, banner_text=True))


def _cmd_call(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.testcall import place_call, print_result

    digits = [d for d in args.digits.replace(" ", "").split(",") if d] if args.digits else []
    result = asyncio.run(place_call(settings, args.number, digits, ahead=args.ahead,
                                    timeout=args.timeout, caller_id=args.caller_id))
    print_result(result)
    return 0 if result.queue or result.dialled else 1


def _cmd_reports(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.reports_cli import apply_retention, show_reports

    if args.reference in ("redact", "purge"):
        if args.older_than is None:
            print(f"error: reports {args.reference} needs --older-than DAYS", file=sys.stderr)
            return 2
        return asyncio.run(apply_retention(settings, args.reference, args.older_than,
                                           dry_run=args.dry_run))
    return asyncio.run(show_reports(settings, args.reference, args.limit))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balagh", description=__doc__)
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {metadata.version('balagh')}")
    parser.add_argument("--config", type=Path, help="service settings (default config/balagh.yaml)")
    parser.add_argument("--log-level", help="debug, info, warning (default: info for run, "
                        "warning otherwise)")
    parser.add_argument("--log-json", action="store_true", help="JSON log lines")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the ARI app that answers the hotline")
    run.set_defaults(func=_cmd_run)

    pbx = sub.add_parser("pbx", help="the sandbox Asterisk (Debian sid in a chroot)")
    pbx.add_argument("action", choices=["install", "start", "stop", "status"])
    pbx.add_argument("--force", action="store_true", help="with install: build it again")
    pbx.set_defaults(func=_cmd_pbx)

    call = sub.add_parser("call", help="place a test call into the PBX and answer on the keypad")
    call.add_argument("number", nargs="?", default="800700")
    call.add_argument("--digits", default="", help="answers in order, e.g. 1,1,1,2,3,0")
    call.add_argument("--ahead", action="store_true",
                      help="type every digit at once after answer instead of one per prompt")
    call.add_argument("--caller-id", default="+97165551234", help="'' for a withheld number")
    call.add_argument("--timeout", type=float, default=60.0)
    call.set_defaults(func=_cmd_call)

    reports = sub.add_parser(
        "reports", help="list recent reports, show one, or apply retention",
        description="balagh reports [REFERENCE]; balagh reports redact --older-than DAYS "
        "(forget caller numbers and locations); balagh reports purge --older-than DAYS "
        "(delete reports and their answers)")
    reports.add_argument("reference", nargs="?", help="a reference number, or redact / purge")
    reports.add_argument("--limit", type=int, default=20)
    reports.add_argument("--older-than", type=int, metavar="DAYS",
                         help="with redact or purge: reports started more than DAYS ago")
    reports.add_argument("--dry-run", action="store_true",
                         help="with redact or purge: only count")
    reports.set_defaults(func=_cmd_reports)

    add_sounds_parser(sub)
    add_ivr_parser(sub)

    add_reload_actions(add_routes_parser(sub))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("info" if args.command in ("run", "pbx") else "warning")
    setup_logging(level, json=args.log_json)
    try:
        settings = load_settings(args.config)
        status: int = args.func(settings, args)
        return status
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear one-line error for known operational failures
        from balagh.pbx.sandbox import SandboxError

        if isinstance(exc, SandboxError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise
