"""A cap on every request body, as ASGI middleware so no route can forget it.

A declared Content-Length over the cap is answered 413 before a byte of the body is read;
a body without one (chunked) is counted as it arrives and refused as soon as it passes the
cap. Either way the server holds at most the cap (plus one read) of any request's body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised out of receive() when a body passes the cap; the middleware answers 413."""


def _refusal(status: int, text: str) -> tuple[Message, Message]:
    body = text.encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                         (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]},  # the rest of the body is never read
            {"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send, status: int, text: str) -> None:
        for message in _refusal(status, text):
            await send(message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"a request body may have at most {self.max_bytes} bytes\n"
        declared = [value for name, value in scope["headers"] if name == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                await self._refuse(send, 400, "Content-Length is not a number\n")
                return
            if length > self.max_bytes:
                await self._refuse(send, 413, too_large)
                return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:  # too late to answer: the server drops the connection
                raise
            await self._refuse(send, 413, too_large)


__all__ = ["BodyLimit", "BodyTooLarge"]
