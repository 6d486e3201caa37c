"""One SIP OPTIONS over UDP and its reply code: `balagh pbx nodes status`'s ping and the
wait for Kamailio at `nodes start` (balagh/pbx/nodes.py).

Calls themselves are placed by SIPp (balagh/pbx/sipp.py, config/sipp/): a real SIP
client, not this. A ping is one request and one reply, simpler here than a SIPp process.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
from dataclasses import dataclass


@dataclass
class Response:
    code: int
    headers: dict[str, list[str]]

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""


def _tag() -> str:
    return secrets.token_hex(6)


def parse(data: bytes) -> tuple[str, Response | None, dict[str, list[str]]]:
    """(first line, the response if it is one, headers by lower-case name)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    match = re.match(r"SIP/2\.0 (\d{3})", lines[0])
    return lines[0], (Response(int(match.group(1)), headers) if match else None), headers


def options_ping(host: str, port: int, *, timeout: float = 1.0) -> int | None:
    """The reply code of one OPTIONS to host:port, None if nothing answers in time."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local = sock.getsockname()
        call_id = _tag()
        message = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {local[0]}:{local[1]};branch=z9hG4bK{_tag()};rport\r\n"
                   "Max-Forwards: 70\r\n"
                   f"From: <sip:probe@{local[0]}>;tag={_tag()}\r\n"
                   f"To: <sip:{host}:{port}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n")
        deadline = time.monotonic() + timeout
        try:
            sock.sendto(message.encode(), (host, port))
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                _, response, headers = parse(sock.recv(65535))
                if response and response.code >= 200 and call_id in headers.get("call-id", []):
                    return response.code
        except (TimeoutError, ConnectionRefusedError):
            return None
    return None
