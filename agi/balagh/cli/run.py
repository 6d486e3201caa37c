"""`balagh run`: the ARI app that answers the hotline."""

from __future__ import annotations

import argparse
import sys

from balagh.config import Settings


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from balagh import eventloop
    from balagh.app import run_app
    from balagh.oneapp import AppAlreadyServing
    from balagh.pidfile import PidFileHeld

    try:
        return eventloop.run(run_app(settings, banner_text=True))
    except PidFileHeld as exc:  # `routes reload` keeps signalling the first app
        print(f"error: balagh run: another app is running: {exc}; stop it first",
              file=sys.stderr)
    except AppAlreadyServing as exc:
        print(f"error: balagh run: {exc}", file=sys.stderr)
    return 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="run the ARI app that answers the hotline")
    run.set_defaults(func=_run)
