"""A unit's receiving system for the handover tests: a real HTTP server on 127.0.0.1.

It can refuse (answer 500) or be down (its port closed) and come back on the same port.
Tests wait on what it received with `eventually`, a bounded poll, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class Receiver:
    """POSTs to any path: accepted (200, kept in `accepted`) unless `refusing` (500)."""

    def __init__(self) -> None:
        self.accepted: list[Received] = []
        self.refused = 0
        self.refusing = False
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/balagh/reports"

    def start(self) -> Receiver:
        """Listen (again) on the same port; port 0 the first time."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    refuse = receiver.refusing
                    if refuse:
                        receiver.refused += 1
                    else:
                        receiver.accepted.append(Received(dict(self.headers), body))
                self.send_response(500 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until start() again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def keys(self) -> list[str]:
        with self._lock:
            return [r.headers["Idempotency-Key"] for r in self.accepted]


async def eventually(condition: Callable[[], Any], timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Return once `condition()` is true; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def eventually_async(condition: Callable[[], Any], timeout: float = 10.0,
                           what: str = "condition") -> None:
    """As `eventually`, for a condition that is a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
