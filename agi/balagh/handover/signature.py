"""The signature of a delivery: who sent it, when, and which delivery it is.

    Balagh-Signature: t=1767225600,id=3356375:answered,v1=<hex>

v1 is the hex HMAC-SHA256, keyed with the endpoint's secret, of f"{t}.{id}." followed by
the exact body sent. The time of the attempt (t, unix seconds) and the delivery's id (the
idempotency key) are signed with the body, so a captured request cannot be replayed
outside the window (REPLAY_WINDOW) nor under another id; within the window a receiver
that keeps the ids it took refuses the copy as a duplicate. docs/units.md shows the
receiver's side.

The old header, X-Balagh-Signature: "sha256=" + HMAC of the body alone, is still sent so
that receivers written before this one keep working; it proves who sent a body, not when
nor which delivery it is, so `verify` does not accept it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

__all__ = ["HEADER", "LEGACY_HEADER", "REPLAY_WINDOW", "Signed", "sign", "sign_body",
           "verified", "verify"]

HEADER = "Balagh-Signature"
LEGACY_HEADER = "X-Balagh-Signature"  # deprecated: the body only, replayable
REPLAY_WINDOW = 300  # seconds a signature is good for, either side of the receiver's clock
_SCHEME = "v1"
_MAX_HEADER = 512  # a real header is about 130 characters; longer is not ours


@dataclass(frozen=True, slots=True)
class Signed:
    """What a valid signature vouches for, besides the body."""

    timestamp: int  # unix seconds, when the attempt was signed
    id: str  # the delivery's id: deduplicate on this


def _mac(body: bytes, secret: str, timestamp: int, delivery_id: str) -> str:
    signed = f"{timestamp}.{delivery_id}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, *, delivery_id: str, timestamp: int) -> str:
    """The Balagh-Signature value for `body` sent as `delivery_id` at `timestamp`."""
    if not delivery_id or any(ch in delivery_id for ch in ",= \t\r\n"):
        raise ValueError(f"a delivery id cannot hold ',', '=' or spaces: {delivery_id!r}")
    mac = _mac(body, secret, int(timestamp), delivery_id)
    return f"t={int(timestamp)},id={delivery_id},{_SCHEME}={mac}"


def sign_body(body: bytes, secret: str) -> str:
    """The deprecated X-Balagh-Signature value: the body alone."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verified(body: bytes, secret: str, header: str | None, *, now: float | None = None,
             window: float = REPLAY_WINDOW) -> Signed | None:
    """What `header` (a Balagh-Signature) vouches for, if it signs `body` with `secret`
    within `window` seconds of `now` (default the clock); None otherwise."""
    if not header or not secret or len(header) > _MAX_HEADER:
        return None
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if not equals or name in fields:
            return None
        fields[name] = value
    stamp, delivery_id, mac = fields.get("t", ""), fields.get("id", ""), fields.get(_SCHEME, "")
    if not (stamp.isascii() and stamp.isdigit() and delivery_id and mac):
        return None
    timestamp = int(stamp)
    expected = _mac(body, secret, timestamp, delivery_id)
    if not hmac.compare_digest(expected.encode("ascii"), mac.encode("utf-8", "replace")):
        return None
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > window:
        return None
    return Signed(timestamp, delivery_id)


def verify(body: bytes, secret: str, header: str | None, *, now: float | None = None,
           window: float = REPLAY_WINDOW) -> bool:
    """Whether `header` signs `body` with `secret`, within the window (see `verified`,
    which also gives the signed id to deduplicate on)."""
    return verified(body, secret, header, now=now, window=window) is not None
