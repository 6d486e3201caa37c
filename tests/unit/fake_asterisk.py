"""Stand-ins for Asterisk's two doors, for the health probes: real servers on 127.0.0.1.

FakeAri answers ARI's GETs (asterisk/info, asterisk/variable, applications/NAME, the
description under api-docs and asterisk/modules, as ari_description.py builds them) with
basic auth; a heartbeat variable can beat (a new value at every read) or stand still.
fake_ami answers AMI's banner and Login like Asterisk does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from .ari_description import described, running_modules

USER, PASSWORD = "balagh", "s3cret"


class FakeAri:
    def __init__(self) -> None:
        self.beating: set[str] = set()   # variables that change at every read
        self.variables: dict[str, str] = {}
        self.channels: dict[str, list[str]] = {}  # Stasis app -> channel ids
        self.delay = 0.0  # seconds before each answer (a stalled Asterisk)
        self.reads = 0
        self.docs: dict[str, Any] = {}
        self.modules = running_modules()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def start(self) -> FakeAri:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(fake.delay)
                expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._send(401, {"message": "Authentication required"})
                url = urlparse(self.path)
                status, body = fake.answer(url.path, parse_qs(url.query))
                self._send(status, body)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.docs = described(self.url + "ari")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if path == "/ari/asterisk/info":
            return 200, {"system": {"version": "22.5.2", "entity_id": "fake"}}
        if path in self.docs:
            return 200, self.docs[path]
        if path == "/ari/asterisk/modules":
            return 200, self.modules
        if path == "/ari/asterisk/variable":
            name = query.get("variable", [""])[0]
            if name in self.beating:
                self.reads += 1
                return 200, {"value": f"1234-abc-{self.reads}"}
            if name in self.variables:
                return 200, {"value": self.variables[name]}
            return 404, {"message": "Provided variable was not found"}
        if path.startswith("/ari/applications/"):
            app = path.removeprefix("/ari/applications/")
            if app in self.channels:
                return 200, {"name": app, "channel_ids": self.channels[app],
                             "bridge_ids": [], "endpoint_ids": [], "device_names": []}
            return 404, {"message": "Application not found"}
        return 404, {"message": "Resource not found"}


@asynccontextmanager
async def fake_ami(*, accept: bool = True) -> AsyncIterator[int]:
    """An AMI server on a free port (yielded) that accepts or refuses every Login."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                message = (await reader.readuntil(b"\r\n\r\n")).decode()
                headers = dict(line.split(": ", 1)
                               for line in message.split("\r\n") if ": " in line)
                action_id = headers.get("ActionID", "")
                if headers.get("Action", "").lower() == "login" and not accept:
                    reply = f"Response: Error\r\nActionID: {action_id}\r\n" \
                            "Message: Authentication failed\r\n\r\n"
                else:
                    reply = f"Response: Success\r\nActionID: {action_id}\r\n" \
                            "Message: Authentication accepted\r\n\r\n"
                writer.write(reply.encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
