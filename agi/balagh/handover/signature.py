"""The X-Balagh-Signature header: "sha256=" + hex HMAC-SHA256 of the exact body sent,
keyed with the endpoint's secret. docs/units.md shows the receiver's side."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for `body`."""
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Whether `header` is the signature of `body` with `secret` (in constant time)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"),
                               header.strip().encode("utf-8", "replace"))
