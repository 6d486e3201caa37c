"""`balagh console`: the supervisors' web console, as its own process beside `balagh run`.

It has its own AMI session and opens the report database read-only, so a problem here
never reaches a call. Serve it on loopback and put a TLS reverse proxy in front
(docs/operators.md); console users are managed with `balagh users`.
"""

from __future__ import annotations

import argparse

from balagh.config import Settings

HEADER_BYTES = 16384      # request line + headers (URL and query included); more: 400
KEEP_ALIVE_SECONDS = 5    # an idle connection is closed after this


def _console(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from balagh.console.web import create_app

    host = args.host or settings.console.host
    port = args.port or settings.console.port
    # proxy_headers off: the console itself trusts X-Forwarded-For only from
    # console.trusted_proxies (console/clients.py). http="h11": its bound on the request
    # line and headers applies (the httptools parser has none).
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_config=None,
                            access_log=False, proxy_headers=False, http="h11",
                            h11_max_incomplete_event_size=HEADER_BYTES,
                            limit_concurrency=settings.console.max_connections,
                            timeout_keep_alive=KEEP_ALIVE_SECONDS,
                            timeout_graceful_shutdown=2, lifespan="on")
    uvicorn.Server(config).run()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "console", help="the supervisors' web console (wallboard, live calls, reports)",
        description="Serve the web console on console.host:console.port of balagh.yaml "
        "(default 127.0.0.1:8089). Users: `balagh users add`.")
    parser.add_argument("--host", help="address to listen on (default from balagh.yaml)")
    parser.add_argument("--port", type=int, help="port to listen on (default from balagh.yaml)")
    parser.set_defaults(func=_console)
