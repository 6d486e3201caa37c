"""`balagh pbx install|start|stop|status`: the sandbox Asterisk."""

from __future__ import annotations

import argparse

from balagh.cli.common import print_fields
from balagh.config import Settings


def _pbx(settings: Settings, args: argparse.Namespace) -> int:
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
        print_fields(status)
        return 0 if status["running"] == "yes" else 3
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pbx = subparsers.add_parser("pbx", help="the sandbox Asterisk (Debian sid in a chroot)")
    pbx.add_argument("action", choices=["install", "start", "stop", "status"])
    pbx.add_argument("--force", action="store_true", help="with install: build it again")
    pbx.set_defaults(func=_pbx)
