"""`balagh sounds ...`: the prompt catalogue from the command line."""

from __future__ import annotations

import argparse

from balagh.config import Settings
from balagh.prompts import generate, load_catalogue


def _generate(settings: Settings, args: argparse.Namespace) -> int:
    catalogue = load_catalogue(settings.sounds_dir / "prompts.yaml")
    made = generate(settings.sounds_dir, catalogue, force=args.force)
    for path in made:
        print(f"generated {path}")
    print(f"{len(made)} prompt file(s) generated")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sounds = subparsers.add_parser("sounds", help="the prompt catalogue and its audio")
    actions = sounds.add_subparsers(dest="action", required=True)
    gen = actions.add_parser("generate", help="make missing placeholder prompts with espeak-ng")
    gen.add_argument("--force", action="store_true",
                     help="remake our own generated files too (recordings are never touched)")
    gen.set_defaults(func=_generate)
