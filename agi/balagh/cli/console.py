"""`balagh console`: the supervisors' web console, as its own process beside `balagh run`.

It has its own AMI session and opens the report database read-only, so a problem here
never reaches a call. Serve it on loopback and put a TLS reverse proxy in front
(docs/operators.md); console users are managed with `balagh users`.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys

import structlog

from balagh.config import Settings

log = structlog.get_logger(__name__)

HEADER_BYTES = 16384      # request line + headers (URL and query included); more: 400
KEEP_ALIVE_SECONDS = 5    # an idle connection is closed after this


def listening_socket(host: str, port: int) -> socket.socket:
    """The console's socket, bound and listening; OSError (port taken, no such address)
    before anything else starts, so a taken port ends the process at once."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                flags=socket.AI_PASSIVE)[0][0]
    return socket.create_server((host, port), family=family)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (what the TLS proxy in front needs)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _console(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.console.host
    port = args.port or settings.console.port
    try:
        sock = listening_socket(host, port)
    except OSError as exc:  # taken, not ours, or no such address: systemd restarts us
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    with sock:
        if not is_loopback(host):
            log.warning(f"listening on {host}, not loopback: the console speaks plain HTTP "
                        "and belongs behind the TLS reverse proxy (docs/operators.md)")
        return _serve(settings, sock, host, port)


def _serve(settings: Settings, sock: socket.socket, host: str, port: int) -> int:
    import uvicorn  # imported only now: a taken port fails before this second

    from balagh.console.web import create_app

    # proxy_headers off: the console itself trusts X-Forwarded-For only from
    # console.trusted_proxies (console/clients.py). http="h11": its bound on the request
    # line and headers applies (the httptools parser has none).
    config = uvicorn.Config(create_app(settings), log_config=None,
                            access_log=False, proxy_headers=False, http="h11",
                            h11_max_incomplete_event_size=HEADER_BYTES,
                            limit_concurrency=settings.console.max_connections,
                            timeout_keep_alive=KEEP_ALIVE_SECONDS,
                            timeout_graceful_shutdown=2, lifespan="on")
    shown = f"[{host}]" if ":" in host else host
    log.info(f"listening on http://{shown}:{port}")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "console", help="the supervisors' web console (wallboard, live calls, reports)",
        description="Serve the web console on console.host:console.port of balagh.yaml "
        "(default 127.0.0.1:8089). Users: `balagh users add`. A host other than loopback "
        "belongs behind the TLS reverse proxy (docs/operators.md).")
    parser.add_argument("--host", help="address to listen on (default from balagh.yaml)")
    parser.add_argument("--port", type=int, help="port to listen on (default from balagh.yaml)")
    parser.set_defaults(func=_console)
