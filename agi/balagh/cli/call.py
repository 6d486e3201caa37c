"""`balagh call`: place a test call into the PBX and answer on the keypad."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from balagh.cli.common import print_fields
from balagh.config import Settings

if TYPE_CHECKING:
    from balagh.testcall import CallResult


def _call(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.testcall import place_call

    digits = [d for d in args.digits.replace(" ", "").split(",") if d] if args.digits else []
    result = asyncio.run(place_call(settings, args.number, digits, ahead=args.ahead,
                                    timeout=args.timeout, caller_id=args.caller_id))
    print_result(result)
    return 0 if result.queue or result.dialled else 1


def print_result(result: CallResult) -> None:
    rows = result.summary()
    if result.fallback:
        rows["fallback"] = result.fallback
    print_fields(rows)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    call = subparsers.add_parser("call", help="place a test call into the PBX and answer on "
                                 "the keypad")
    call.add_argument("number", nargs="?", default="800700")
    call.add_argument("--digits", default="", help="answers in order, e.g. 1,1,1,2,3,0")
    call.add_argument("--ahead", action="store_true",
                      help="type every digit at once after answer instead of one per prompt")
    call.add_argument("--caller-id", default="+97165551234", help="'' for a withheld number")
    call.add_argument("--timeout", type=float, default=60.0)
    call.set_defaults(func=_call)
