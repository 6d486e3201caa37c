"""`balagh pbx install|start|stop|status`: the sandbox Asterisk;
`balagh pbx nodes start N|stop|status`: N sandbox Asterisk nodes behind Kamailio;
`balagh pbx sms start|stop|status`: Kannel with a fake SMSC for the sandbox's texts;
`balagh pbx db start [--standby]|stop|status|promote`: PostgreSQL primary + standby;
`balagh pbx apply`: Balagh's snippets into an existing Asterisk's configuration."""

from __future__ import annotations

import argparse
from pathlib import Path

from balagh.cli.common import print_fields
from balagh.config import Settings

DEFAULT_SECRETS = Path("/etc/balagh/balagh.env")


def _pbx(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "apply":
        return _apply(settings, args)
    if args.action == "nodes":
        return _nodes(settings, args.nodes)
    if args.action == "sms":
        return _sms(settings, args.nodes)
    if args.action == "db":
        return _db(settings, args.nodes, standby=args.standby)
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


def _nodes(settings: Settings, words: list[str]) -> int:
    from balagh.pbx.nodes import KAMAILIO_ADDRESS, MAX_NODES, Nodes
    from balagh.pbx.sandbox import SandboxError

    usage = f"balagh pbx nodes start N (2..{MAX_NODES}) | stop | status"
    nodes = Nodes(settings)
    try:
        if words[:1] == ["start"] and len(words) == 2 and words[1].isdigit():
            nodes.start(int(words[1]))
            host, port = KAMAILIO_ADDRESS
            print(f"{words[1]} nodes and Kamailio started; the hotline: sip:800700@{host}:{port}")
        elif words == ["stop"]:
            print("nodes stopped" if nodes.stop() else "no nodes were running")
        elif words == ["status"]:
            status = nodes.status()
            print_fields(status)
            return 0 if status["nodes"] != "0" else 3
        else:
            print(f"usage: {usage}")
            return 2
    except SandboxError as exc:
        print(f"balagh pbx nodes: {exc}")
        return 1
    return 0


def _sms(settings: Settings, words: list[str]) -> int:
    from balagh.pbx.kannel import KannelError, KannelSandbox

    kannel = KannelSandbox(settings.pbx_dir / "kannel")
    try:
        if words == ["start"]:
            started = kannel.start()
            print(f"Kannel {'started' if started else 'already running'}: sendsms at "
                  f"{kannel.sendsms_url}; texts received: {kannel.fakesmsc_log}\n"
                  f"secrets (secrets_file, or copy into yours): {kannel.secrets_file}")
        elif words == ["stop"]:
            print("Kannel stopped" if kannel.stop() else "Kannel was not running")
        elif words == ["status"]:
            status = kannel.status()
            print_fields(status)
            return 0 if status["bearerbox"].isdigit() else 3
        else:
            print("usage: balagh pbx sms start | stop | status")
            return 2
    except (KannelError, OSError) as exc:
        print(f"balagh pbx sms: {exc}")
        return 1
    return 0


def _db(settings: Settings, words: list[str], *, standby: bool) -> int:
    from balagh.pbx.postgres import PostgresError
    from balagh.pbx.postgres_pair import SandboxDatabase, sandbox_folder
    from balagh.pbx.sandbox import Sandbox

    if words not in (["start"], ["stop"], ["status"], ["promote"]) or (
            standby and words != ["start"]):
        print("usage: balagh pbx db start [--standby] | stop | status | promote")
        return 2
    database = SandboxDatabase(sandbox_folder(settings.pbx_dir), settings.sandbox_secrets)
    try:
        if words == ["start"]:
            Sandbox(settings).secrets()  # the file whole first: the PBX's keys beside ours
            print("\n".join(database.start(standby=standby) or ["already running"]))
            print(f"database_url: {database.database_url()}\n"
                  f"(balagh.yaml, or BALAGH_DATABASE_URL; BALAGH_DATABASE_PASSWORD is in "
                  f"{settings.sandbox_secrets}, which the app reads)")
        elif words == ["stop"]:
            print("\n".join(database.stop() or ["PostgreSQL was not running"]))
        elif words == ["promote"]:
            print("\n".join(database.promote()))
            print(f"database_url unchanged (libpq finds the new primary): "
                  f"{database.database_url()}\nbalagh pbx db start --standby rebuilds "
                  "the old primary as the new one's standby")
        else:
            status = database.status()
            print_fields(status)
            return 0 if database.primary_answers() else 3
    except (PostgresError, OSError) as exc:
        print(f"balagh pbx db: {exc}")
        return 1
    return 0


def _apply(settings: Settings, args: argparse.Namespace) -> int:
    from balagh.pbx.apply import ApplyError, apply, plan, secrets_for_site, sounds_folder

    if not args.asterisk_etc:
        print("balagh pbx apply: --asterisk-etc DIR is required (e.g. /etc/asterisk)")
        return 2
    etc = Path(args.asterisk_etc)
    secrets_file = Path(args.secrets_file) if args.secrets_file else (
        settings.secrets_file or DEFAULT_SECRETS)
    try:
        values, made = secrets_for_site(secrets_file, dry_run=args.dry_run)
        outcomes = apply(plan(etc, args.layout, values), dry_run=args.dry_run)
    except (ApplyError, OSError) as exc:
        print(f"balagh pbx apply: {exc}")
        return 1
    if made:
        print(f"{'would write' if args.dry_run else 'wrote'}  AMI and ARI secrets to "
              f"{secrets_file} (0600)")
    for outcome in outcomes:
        print(outcome.done)
    changed = made or any(not o.done.startswith("unchanged") for o in outcomes)
    print(("nothing to change" if not changed else
           "dry run: nothing written" if args.dry_run else "done") + f" ({args.layout} layout)")
    if changed and not args.dry_run:
        print("next: asterisk -rx 'core reload'; list your agents in "
              f"{etc / 'balagh_queue_members.conf'}; balagh sounds install --to "
              f"{sounds_folder(etc)}; secrets_file: {secrets_file} in balagh.yaml")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pbx = subparsers.add_parser(
        "pbx", help="the sandbox Asterisk (Debian sid in a chroot); `apply`: Balagh's "
        "snippets into your own Asterisk's /etc/asterisk")
    pbx.add_argument("action", choices=["install", "start", "stop", "status", "apply", "nodes",
                                        "sms", "db"])
    pbx.add_argument("nodes", nargs="*", metavar="start N|stop|status",
                     help="with nodes: N Asterisk nodes (127.0.0.2..) behind Kamailio "
                     "(127.0.0.1:5070), stop them, or show them (docs/scale.md); with sms: "
                     "start, stop or show Kannel and its fake SMSC (docs/reachback.md); "
                     "with db: start, stop, show or promote the sandbox's PostgreSQL "
                     "(127.0.0.1:5433, standby :5434; docs/scale.md)")
    pbx.add_argument("--standby", action="store_true",
                     help="with db start: a synchronous streaming standby too (made, or the "
                     "old primary rebuilt, after a promote)")
    pbx.add_argument("--force", action="store_true", help="with install: build it again")
    pbx.add_argument("--asterisk-etc", metavar="DIR",
                     help="with apply: the Asterisk configuration folder (e.g. /etc/asterisk)")
    pbx.add_argument("--layout", choices=["stock", "freepbx"], default="stock",
                     help="with apply: stock (include lines in manager.conf, ari.conf, ...) "
                     "or freepbx (in the *_custom.conf files FreePBX leaves to you)")
    pbx.add_argument("--secrets-file", metavar="FILE",
                     help="with apply: Balagh's secrets file, made 0600 if missing (default: "
                     f"secrets_file of balagh.yaml, else {DEFAULT_SECRETS})")
    pbx.add_argument("--dry-run", action="store_true",
                     help="with apply: print what would change, write nothing")
    pbx.set_defaults(func=_pbx)
