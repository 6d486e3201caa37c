"""A unit's receiving system for the handover tests: a real HTTP server on 127.0.0.1.

Given the endpoint's secret, it checks each request with the receiver of docs/units.md
(`take`, run from the guide's own text: signature, time window, deduplication by the
signed id), so the tests prove the guide's receiver works against the real outbox. It can
refuse (answer 500) or be down (its port closed) and come back on the same port. Tests
wait on what it received with `eventually`, a bounded poll, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

UNITS_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "units.md"

Take = Callable[[bytes, str | None, str, dict[str, bytes]], int]


def guide_receiver() -> Take:
    """`take` as docs/units.md writes it (the guide's one Python block)."""
    [code] = re.findall(r"```python\n(.*?)```", UNITS_GUIDE.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    take: Take = namespace["take"]
    return take


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class Receiver:
    """POSTs to any path: accepted (200, kept in `accepted`) unless `refusing` (500).

    With `secret`, as the guide's receiver: a request it refuses (401) is counted in
    `unsigned`, one it already took in `duplicates` (answered 200, not kept again)."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.accepted: list[Received] = []
        self.refused = 0
        self.refusing = False
        self.unsigned = 0
        self.duplicates = 0
        self.taken: dict[str, bytes] = {}
        self._take = guide_receiver() if secret is not None else None
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
                    status = receiver._receive(dict(self.headers), body)
                self.send_response(status)
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

    def _receive(self, headers: dict[str, str], body: bytes) -> int:
        if self.refusing:
            self.refused += 1
            return 500
        if self._take is None or self.secret is None:
            self.accepted.append(Received(headers, body))
            return 200
        before = len(self.taken)
        status = self._take(body, headers.get("Balagh-Signature"), self.secret, self.taken)
        if status != 200:
            self.unsigned += 1
        elif len(self.taken) == before:
            self.duplicates += 1
        else:
            self.accepted.append(Received(headers, body))
        return status

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
