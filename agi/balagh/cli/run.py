"""`balagh run`: the ARI app that answers the hotline."""

from __future__ import annotations

import argparse

from balagh.config import Settings


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from balagh import eventloop
    from balagh.app import run_app

    return eventloop.run(run_app(settings, banner_text=True))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser("run", help="run the ARI app that answers the hotline")
    run.set_defaults(func=_run)
