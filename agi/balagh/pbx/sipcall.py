"""A small SIP user agent over UDP: OPTIONS pings and test calls through Kamailio.

Enough of RFC 3261 for loopback tests of the nodes (balagh/pbx/nodes.py): an INVITE
with an SDP offer (retransmitted on T1 until a reply), ACK, keys sent as SIP INFO
(application/dtmf-relay, which Asterisk turns into DTMF), BYE along the recorded route.
No audio is sent; the RTP socket only gives the offer a real port.
"""

from __future__ import annotations

import re
import secrets
import socket
import time
from dataclasses import dataclass, field

T1 = 0.5  # RFC 3261's retransmission timer


@dataclass
class Response:
    code: int
    headers: dict[str, list[str]]

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""


@dataclass
class CallOutcome:
    """What one call got: the final code, which node answered, how long it took."""

    code: int | None
    node: str | None
    seconds: float
    failed_nodes: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return self.code == 200


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


class SipCall:
    """One call from 127.0.0.1 to `number` through the proxy at (host, port)."""

    def __init__(self, proxy: tuple[str, int], number: str) -> None:
        self.proxy = proxy
        self.number = number
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()
        self.call_id = f"{_tag()}@127.0.0.1"
        self.from_tag = _tag()
        self.to_header = f"<sip:{number}@{proxy[0]}:{proxy[1]}>"
        self.remote_target = f"sip:{number}@{proxy[0]}:{proxy[1]}"
        self.route: list[str] = []
        self.cseq = 1
        self.established = False

    def _via(self, branch: str) -> str:
        return f"Via: SIP/2.0/UDP {self.local[0]}:{self.local[1]};branch={branch};rport\r\n"

    def _request(self, method: str, uri: str, branch: str, cseq: int, body: str = "",
                 content_type: str = "") -> bytes:
        lines = [f"{method} {uri} SIP/2.0\r\n", self._via(branch), "Max-Forwards: 70\r\n",
                 f"From: <sip:caller@127.0.0.1>;tag={self.from_tag}\r\n",
                 f"To: {self.to_header}\r\n", f"Call-ID: {self.call_id}\r\n",
                 f"CSeq: {cseq} {method}\r\n",
                 f"Contact: <sip:caller@{self.local[0]}:{self.local[1]}>\r\n"]
        lines += [f"Route: {hop}\r\n" for hop in self.route]
        if content_type:
            lines.append(f"Content-Type: {content_type}\r\n")
        lines.append(f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        return "".join(lines).encode()

    def _sdp(self) -> str:
        port = self.rtp.getsockname()[1]
        return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=balagh-test\r\nc=IN IP4 127.0.0.1\r\n"
                f"t=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n")

    def _answer_request(self, first: str, headers: dict[str, list[str]]) -> None:
        """A request from the far end (BYE, OPTIONS ...): 200 OK, as a phone would."""
        reply = ["SIP/2.0 200 OK\r\n"]
        reply += [f"Via: {via}\r\n" for via in headers.get("via", [])]
        for name in ("from", "to", "call-id", "cseq"):
            reply += [f"{name.title()}: {value}\r\n" for value in headers.get(name, [])]
        reply.append("Content-Length: 0\r\n\r\n")
        self.sock.sendto("".join(reply).encode(), self.proxy)
        if first.startswith("BYE"):
            self.established = False

    def _transaction(self, message: bytes, cseq_method: str, timeout: float
                     ) -> Response | None:
        """Send, retransmit until a reply, return the final response (None on timeout)."""
        deadline = time.monotonic() + timeout
        interval, resend_at, provisional = T1, time.monotonic() + T1, False
        self.sock.sendto(message, self.proxy)
        while (now := time.monotonic()) < deadline:
            self.sock.settimeout(max(0.01, min(deadline, resend_at) - now))
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                if not provisional and time.monotonic() >= resend_at:
                    self.sock.sendto(message, self.proxy)
                    interval = min(interval * 2, 4.0)
                    resend_at = time.monotonic() + interval
                continue
            first, response, headers = parse(data)
            if response is None:
                self._answer_request(first, headers)
                continue
            if self.call_id not in headers.get("call-id", []) or \
                    not response.header("cseq").endswith(cseq_method):
                continue
            if response.code < 200:
                provisional = True
                continue
            return response
        return None

    def invite(self, timeout: float = 15.0) -> CallOutcome:
        started = time.monotonic()
        branch = f"z9hG4bK{_tag()}"
        invite = self._request("INVITE", self.remote_target, branch, self.cseq, self._sdp(),
                               "application/sdp")
        response = self._transaction(invite, "INVITE", timeout)
        seconds = time.monotonic() - started
        if response is None:
            self.cancel(branch)
            return CallOutcome(None, None, seconds)
        to = response.header("to")
        if response.code >= 300:  # the ACK of a failure is hop-by-hop, same branch
            self.to_header = to
            self.sock.sendto(self._request("ACK", self.remote_target, branch, self.cseq),
                             self.proxy)
            return CallOutcome(response.code, None, seconds)
        self.to_header = to
        contact = re.search(r"<([^>]+)>", response.header("contact"))
        self.remote_target = contact.group(1) if contact else self.remote_target
        self.route = list(reversed(
            [hop.strip() for value in response.headers.get("record-route", [])
             for hop in value.split(",")]))
        self.sock.sendto(self._request("ACK", self.remote_target, f"z9hG4bK{_tag()}",
                                       self.cseq), self.proxy)
        self.established = True
        node = re.search(r"@?([\d.]+):?\d*", self.remote_target.split("@")[-1])
        return CallOutcome(200, node.group(1) if node else None, seconds)

    def cancel(self, branch: str) -> None:
        cancel = self._request("CANCEL", self.remote_target, branch, self.cseq)
        self._transaction(cancel, "CANCEL", 2.0)

    def press(self, keys: str, gap: float = 0.25) -> None:
        """Each key as one SIP INFO (application/dtmf-relay) in the dialog."""
        for key in keys:
            self.cseq += 1
            body = f"Signal={key}\r\nDuration=160\r\n"
            info = self._request("INFO", self.remote_target, f"z9hG4bK{_tag()}", self.cseq,
                                 body, "application/dtmf-relay")
            response = self._transaction(info, "INFO", 4.0)
            if response is None or response.code != 200:
                raise RuntimeError(f"INFO {key}: {response.code if response else 'no reply'}")
            time.sleep(gap)  # keys a caller types, not one burst

    def hang_up(self) -> None:
        if self.established:
            self.cseq += 1
            bye = self._request("BYE", self.remote_target, f"z9hG4bK{_tag()}", self.cseq)
            self._transaction(bye, "BYE", 4.0)
            self.established = False

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()

    def __enter__(self) -> SipCall:
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.hang_up()
        finally:
            self.close()


def call_once(proxy: tuple[str, int], number: str, *, timeout: float = 15.0) -> CallOutcome:
    """INVITE, and on an answer hang up at once: did the hotline take a call?"""
    with SipCall(proxy, number) as call:
        return call.invite(timeout)
