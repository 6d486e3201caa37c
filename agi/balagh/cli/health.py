"""`balagh health [--json] [--only NAME,...]`: the operator's one look, one line per part.

The probes are in balagh.health. Exit 0 when all is well, 1 when degraded (calls are
served, something needs a person), 2 when down (callers are not served by Balagh).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from balagh.config import Settings

__all__ = ["register"]


def _names(text: str) -> list[str]:
    from balagh.health.probes import NAMES

    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown check(s) {', '.join(unknown) or '(none)'}; known: {', '.join(NAMES)}")
    return names


def _health(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.health.probes import NAMES, run_probes
    from balagh.health.report import as_json, exit_code, text_lines

    checks = asyncio.run(run_probes(settings, args.only or NAMES, pbx_sounds=args.pbx_sounds))
    print(as_json(checks) if args.json else "\n".join(text_lines(checks)), flush=True)
    return exit_code(checks)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "health", help="is everything a caller depends on up? one line each, exit 0/1/2",
        description="Checks ARI (reachable with the app's credentials), AMI (login), the app "
        "(its heartbeat changes; calls in progress), the watchdog (its heartbeat), the report "
        "database and spool, the files the settings name (config: they exist), the menu and "
        "the routing table (they load), the prompts (in Asterisk's sounds folder, readable "
        "by its user; how many are still synthetic placeholders: a warning). On a "
        "FastAGI-only site (ari.enabled false) the app line is a real AGI session with the "
        "FastAGI listener, and ARI and the watchdog are not needed. Each check has its "
        "own timeout. Exit 0 all well, 1 degraded (calls are served but something needs a "
        "person: AMI, the watchdog, the store, the config or the prompts), 2 down (ARI "
        "unreachable or the app not beating: callers are not served by Balagh). With "
        "`nodes:` in balagh.yaml, ARI, AMI, the app and the watchdog are checked on every "
        "node, one line each (ari@node1, ari@node2, ...); any node down is exit 2. With a part of "
        "reachback.yaml on, one line for it: texts (Kannel answers; texts waiting, failed in "
        "24 h), callbacks and survey (calls open, failed in 24 h): at worst a warning; a "
        "reachback.yaml that does not load is one warning line naming file:line: key.")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--only", type=_names, metavar="NAME,...",
                        help="only these checks: ari, ami, app, watchdog, store, config, "
                        "menu, routing, prompts, texts, callbacks, survey")
    parser.add_argument("--pbx-sounds", type=Path, metavar="DIR",
                        help="Asterisk's sounds folder (default: astdatadir/sounds from "
                        "/etc/asterisk/asterisk.conf; the sandbox's when it is installed)")
    parser.set_defaults(func=_health)
