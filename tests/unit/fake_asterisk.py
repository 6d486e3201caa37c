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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
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


AmiAnswer = Callable[[dict[str, str]], Iterable[Mapping[str, str]]]


def ami_session(answer: AmiAnswer) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                               Awaitable[None]]:
    """One connection to a fake AMI server: the banner, then `answer`'s replies to each
    action, until the client goes."""
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                message = (await reader.readuntil(b"\r\n\r\n")).decode()
                headers = dict(line.split(": ", 1)
                               for line in message.split("\r\n") if ": " in line)
                for reply in answer(headers):
                    writer.write("".join(f"{k}: {v}\r\n" for k, v in reply.items())
                                 .encode() + b"\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return session


@asynccontextmanager
async def fake_ami(*, accept: bool = True) -> AsyncIterator[int]:
    """An AMI server on a free port (yielded) that accepts or refuses every Login."""

    def answer(headers: dict[str, str]) -> list[dict[str, str]]:
        action_id = headers.get("ActionID", "")
        if headers.get("Action", "").lower() == "login" and not accept:
            return [{"Response": "Error", "ActionID": action_id,
                     "Message": "Authentication failed"}]
        return [{"Response": "Success", "ActionID": action_id,
                 "Message": "Authentication accepted"}]

    server = await asyncio.start_server(ami_session(answer), "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class RecordingAmi:
    """An AMI that answers QueueStatus and CoreShowChannels from what it is given
    and Originate with success, and keeps every action it was sent."""

    entries: list[dict[str, str]] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    originated: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, headers: dict[str, str]) -> list[dict[str, str]]:
        action, action_id = headers.get("Action", "").lower(), headers.get("ActionID", "")
        self.actions.append(headers)
        ok = {"Response": "Success", "ActionID": action_id}
        if action == "queuestatus":
            return [{**ok, "EventList": "start"},
                    *({**entry, "ActionID": action_id} for entry in self.entries),
                    {"Event": "QueueStatusComplete", "ActionID": action_id,
                     "EventList": "Complete"}]
        if action == "coreshowchannels":
            return [{**ok, "EventList": "start"},
                    *({"Event": "CoreShowChannel", "ActionID": action_id, "Uniqueid": uid}
                      for uid in self.channels),
                    {"Event": "CoreShowChannelsComplete", "ActionID": action_id,
                     "EventList": "Complete"}]
        if action == "originate":
            self.originated.set()
            return [{**ok, "Message": "Originate successfully queued"},
                    {"Event": "OriginateResponse", "ActionID": action_id,
                     "Response": "Success"}]
        return [{**ok, "Message": "Authentication accepted"}]
