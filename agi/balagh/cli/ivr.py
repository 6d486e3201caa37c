"""`balagh ivr check`: prove that every path through the menu ends in a queue."""

from __future__ import annotations

import argparse
from pathlib import Path

from balagh.config import ASTERISK_CONFIG_DIR, Settings
from balagh.hotline import HotlineFiles, load_routing
from balagh.ivr.check import check_menu, served_queues

SANDBOX_QUEUES_CONF = ASTERISK_CONFIG_DIR / "queues.conf"


def _check(settings: Settings, args: argparse.Namespace) -> int:
    ivr_file = Path(args.ivr) if args.ivr else settings.ivr_file
    routing_file = Path(args.routing) if args.routing else settings.routing_file
    routing = load_routing(HotlineFiles.of(settings).with_files(ivr=ivr_file,
                                                                 routing=routing_file))
    menu, table = routing.menu, routing.table
    queues_conf = Path(args.queues_conf) if args.queues_conf else SANDBOX_QUEUES_CONF
    served = None if args.no_queues_conf else served_queues(queues_conf)
    result = check_menu(menu, table, served)
    if not result.ok:
        for problem in result.problems[:args.show]:
            print(f"DEAD END  {problem}")
        more = len(result.problems) - args.show
        if more > 0:
            print(f"... and {more} more")
        print(f"{ivr_file} + {routing_file}: {result.paths - result.failed} of {result.paths} "
              f"paths ok; {result.failed} do not end in a queue")
        return 1
    endings = ", ".join(f"{queue} {count}" for queue, count in result.endings.most_common())
    against = "" if served is None else f", all served in {queues_conf}"
    print(f"{ivr_file} + {routing_file}: OK, {result.paths} of {result.paths} paths, every "
          f"one ends in a queue{against} ({endings})")
    if menu.consent is not None:
        print(f"consent question ({menu.consent.question.id}) asked on {result.consent_asked} "
              "of them (never of a withheld number or a caller in danger)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ivr = subparsers.add_parser("ivr", help="the keypad menu (config/ivr.yaml)")
    actions = ivr.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="walk every path (every key, timeout, last "
                               "attempt, danger key); exit 1 naming any that ends elsewhere "
                               "than a queue")
    check.add_argument("--ivr", help="menu file (default: the configured ivr.yaml)")
    check.add_argument("--routing", help="routing table (default: the configured routing.yaml)")
    check.add_argument("--queues-conf", help="Asterisk queues.conf that must serve every "
                       "queue as balagh-NAME, with the files it #includes (default: the "
                       "sandbox's config/asterisk/queues.conf)")
    check.add_argument("--no-queues-conf", action="store_true",
                       help="do not check against a queues.conf")
    check.add_argument("--show", type=int, default=20, help="dead ends to print (default 20)")
    check.set_defaults(func=_check)
